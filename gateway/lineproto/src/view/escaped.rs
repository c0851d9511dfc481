//! Text as written in line protocol, escapes included, read without copying.
//!
//! The escapes are InfluxDB 1.x's, which differ by place (`models/points.go`,
//! `pkg/escape`): a backslash is dropped before the bytes its place escapes and kept
//! everywhere else, `\\` included (1.x never unescapes a backslash in a name).

use std::borrow::Cow;
use std::fmt;

/// Which escapes apply to a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// A measurement: `\,` `\"` `\ ` `\=` (`point.Name`, `escape.Unescape`).
    Measurement,
    /// A tag key or value: `\,` `\ ` `\=` (`unescapeTag`).
    Tag,
    /// A field key: `\,` `\"` `\ ` `\=` (the field iterator, `escape.AppendUnescaped`).
    FieldKey,
    /// The inside of a string field value: `\"` `\\` (`unescapeStringField`).
    Str,
}

impl Context {
    /// Whether `\` followed by `c` stands for `c` in this context.
    #[inline]
    fn unescapes(self, c: u8) -> bool {
        match self {
            Self::Measurement | Self::FieldKey => matches!(c, b',' | b'"' | b' ' | b'='),
            Self::Tag => matches!(c, b',' | b' ' | b'='),
            Self::Str => matches!(c, b'"' | b'\\'),
        }
    }
}

/// The unescaped bytes of `raw` in `context`, one by one.
#[inline]
pub(crate) fn unescaped(raw: &[u8], context: Context) -> UnescapedBytes<'_> {
    UnescapedBytes { rest: raw, context }
}

/// A measurement, tag key or value, field key or string field value as written in the
/// batch, escapes included. A backslash before a byte that its place does not escape is
/// kept, as InfluxDB 1.x keeps it: `a\\b` in a tag is two backslashes.
///
/// Compares equal to a `&str` when its unescaped text is that string, without allocating.
#[derive(Clone, Copy)]
pub struct Escaped<'a> {
    /// The bytes as written.
    raw: &'a [u8],
    /// The escapes that apply.
    context: Context,
}

impl<'a> Escaped<'a> {
    #[inline]
    pub(crate) fn new(raw: &'a [u8], context: Context) -> Self {
        Self { raw, context }
    }

    /// The bytes as written, escapes included (what the writer's `_raw` methods take).
    #[inline]
    pub fn as_raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The unescaped bytes, borrowed when there is nothing to unescape.
    pub fn unescape(&self) -> Cow<'a, [u8]> {
        if self.raw.contains(&b'\\') {
            Cow::Owned(self.bytes().collect())
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// The unescaped bytes one by one, without allocating (e.g. to hash them).
    pub fn bytes(&self) -> UnescapedBytes<'a> {
        UnescapedBytes {
            rest: self.raw,
            context: self.context,
        }
    }

    /// The unescaped text, invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'a, str> {
        match self.unescape() {
            Cow::Borrowed(raw) => String::from_utf8_lossy(raw),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// Whether the unescaped text is `s`.
    #[inline]
    pub fn eq_bytes(&self, s: &[u8]) -> bool {
        // Unescaping only shrinks text, and an escape that changes nothing keeps a
        // backslash that `s` would have to hold too.
        match self.raw.len().cmp(&s.len()) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                self.raw == s && (!self.raw.contains(&b'\\') || self.bytes().eq(s.iter().copied()))
            }
            std::cmp::Ordering::Greater => self.bytes().eq(s.iter().copied()),
        }
    }
}

impl PartialEq<str> for Escaped<'_> {
    #[inline]
    fn eq(&self, other: &str) -> bool {
        self.eq_bytes(other.as_bytes())
    }
}

impl PartialEq<&str> for Escaped<'_> {
    #[inline]
    fn eq(&self, other: &&str) -> bool {
        self.eq_bytes(other.as_bytes())
    }
}

impl PartialEq for Escaped<'_> {
    /// Compares the unescaped texts.
    fn eq(&self, other: &Self) -> bool {
        self.bytes().eq(other.bytes())
    }
}

impl Eq for Escaped<'_> {}

impl AsRef<[u8]> for Escaped<'_> {
    /// The bytes as written, escapes included.
    fn as_ref(&self) -> &[u8] {
        self.raw
    }
}

impl fmt::Display for Escaped<'_> {
    /// The unescaped text, invalid UTF-8 replaced by U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.raw))
    }
}

/// The unescaped bytes of an [`Escaped`] text.
#[derive(Debug, Clone)]
pub struct UnescapedBytes<'a> {
    /// What is left to read, as written.
    rest: &'a [u8],
    /// The escapes that apply.
    context: Context,
}

impl Iterator for UnescapedBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let (&c, rest) = self.rest.split_first()?;
        self.rest = rest;
        if c == b'\\'
            && let Some((&escaped, after)) = rest.split_first()
            && self.context.unescapes(escaped)
        {
            self.rest = after;
            return Some(escaped);
        }
        Some(c)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len().div_ceil(2), Some(self.rest.len()))
    }
}

impl std::iter::FusedIterator for UnescapedBytes<'_> {}
