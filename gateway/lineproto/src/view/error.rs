//! Why the view rejected a line of a batch.

use crate::error::ErrorKind;
use crate::excerpt::Excerpt;
use std::fmt;

/// How much of a rejected line [`ViewError`] keeps.
pub const VIEW_EXCERPT: usize = 32;

/// What is wrong with a line of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewErrorKind {
    /// Not line protocol at all.
    Syntax(ErrorKind),
    /// Valid line protocol without a timestamp (canonical lines always have one).
    MissingTimestamp,
    /// Valid line protocol, but not canonical: leading whitespace, a comment, more than
    /// one space between sections, trailing whitespace, a CR, or leading zeros in the
    /// timestamp.
    NotCanonical,
}

impl fmt::Display for ViewErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(kind) => kind.fmt(f),
            Self::MissingTimestamp => f.write_str("missing timestamp"),
            Self::NotCanonical => f.write_str("not canonical line protocol"),
        }
    }
}

/// A line of a batch that the view could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewError {
    /// 1-based line number in the batch.
    pub line: usize,
    /// Byte offset of the line in the batch.
    pub offset: usize,
    /// What is wrong.
    pub kind: ViewErrorKind,
    /// The start of the line.
    pub text: Excerpt<VIEW_EXCERPT>,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "batch line {}: unable to read '{}': {}",
            self.line, self.text, self.kind
        )
    }
}

impl std::error::Error for ViewError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ViewErrorKind::Syntax(kind) => Some(kind),
            _ => None,
        }
    }
}
