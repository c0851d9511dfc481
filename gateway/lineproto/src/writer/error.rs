//! Why the writer refused a point.

use crate::excerpt::Excerpt;
use std::fmt;

/// How much of the offending input [`WriteError`] keeps.
pub const WRITE_EXCERPT: usize = 32;

/// What was wrong with a point given to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteErrorKind {
    /// An empty measurement.
    EmptyMeasurement,
    /// A plain measurement starting with `#` or a tab, which would read as a comment or
    /// leading whitespace.
    InvalidMeasurement,
    /// An empty tag key.
    EmptyTagKey,
    /// An empty tag value.
    EmptyTagValue,
    /// An empty field key.
    EmptyFieldKey,
    /// A plain field key starting with a tab, which would read as whitespace before
    /// the field set when it comes first (refused wherever it comes, so that writing
    /// fields in any order behaves the same).
    InvalidFieldKey,
    /// An empty raw field value.
    EmptyFieldValue,
    /// A field named `time`, which InfluxDB refuses.
    FieldNamedTime,
    /// A line feed in a measurement, tag or field key, which no escape can carry.
    NewlineInName,
    /// A NaN or infinite float.
    NonFiniteFloat,
    /// A tag after a field.
    TagAfterField,
    /// A point without fields.
    NoFields,
    /// A timestamp outside InfluxDB's range.
    TimeOutsideRange,
}

impl fmt::Display for WriteErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EmptyMeasurement => "empty measurement",
            Self::InvalidMeasurement => "measurement cannot start with '#' or a tab",
            Self::EmptyTagKey => "empty tag key",
            Self::EmptyTagValue => "empty tag value",
            Self::EmptyFieldKey => "empty field key",
            Self::InvalidFieldKey => "field key cannot start with a tab",
            Self::EmptyFieldValue => "empty field value",
            Self::FieldNamedTime => "invalid field name: input field \"time\" is invalid",
            Self::NewlineInName => "line feed in a measurement, tag or field key",
            Self::NonFiniteFloat => "float is not finite",
            Self::TagAfterField => "tag written after a field",
            Self::NoFields => "point has no fields",
            Self::TimeOutsideRange => {
                "time outside range -9223372036854775806 - 9223372036854775806"
            }
        })
    }
}

/// A point the writer refused (and discarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteError {
    /// What was wrong.
    pub kind: WriteErrorKind,
    /// The offending input (for [`WriteErrorKind::NoFields`], the point so far).
    pub input: Excerpt<WRITE_EXCERPT>,
}

impl WriteError {
    pub(crate) fn new(kind: WriteErrorKind, input: &[u8]) -> Self {
        Self {
            kind,
            input: Excerpt::new(input),
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unable to write '{}': {}", self.input, self.kind)
    }
}

impl std::error::Error for WriteError {}
