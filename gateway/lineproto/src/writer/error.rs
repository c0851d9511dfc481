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
    /// A plain measurement starting with `#`, a tab or a NUL, which would read as a
    /// comment or leading whitespace.
    InvalidMeasurement,
    /// An empty tag key.
    EmptyTagKey,
    /// An empty tag value.
    EmptyTagValue,
    /// An empty field key.
    EmptyFieldKey,
    /// A plain field key starting with a tab or a NUL, which would read as whitespace
    /// before the field set when it comes first (refused wherever it comes, so that
    /// writing fields in any order behaves the same).
    InvalidFieldKey,
    /// An empty raw field value.
    EmptyFieldValue,
    /// A field named `time`, which InfluxDB refuses.
    FieldNamedTime,
    /// A line feed in a measurement, tag or field key, which no escape can carry.
    NewlineInName,
    /// A plain name ending with a backslash, which InfluxDB 1.x would read as escaping
    /// the separator after it.
    TrailingBackslash,
    /// A plain field key with `,`, `"`, `=` or a space after an odd run of backslashes,
    /// which InfluxDB 1.x's field parser and its field splitter read differently.
    BackslashBeforeSeparator,
    /// A tag key `time`, which InfluxDB refuses.
    TagNamedTime,
    /// Two tags with the same key, which InfluxDB refuses.
    DuplicateTag,
    /// Two fields with the same key and values of different types, which InfluxDB
    /// refuses (with the whole request).
    FieldTypeConflict,
    /// A line that InfluxDB 1.x's line splitter would end elsewhere: inside a quoted
    /// string (taking the next line into it) or at a line feed in a string value. It
    /// takes a name with a backslash before a space, then quotes.
    LineSplit,
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
            Self::InvalidMeasurement => "measurement cannot start with '#', a tab or a NUL",
            Self::EmptyTagKey => "empty tag key",
            Self::EmptyTagValue => "empty tag value",
            Self::EmptyFieldKey => "empty field key",
            Self::InvalidFieldKey => "field key cannot start with a tab or a NUL",
            Self::EmptyFieldValue => "empty field value",
            Self::FieldNamedTime => "invalid field name: input field \"time\" is invalid",
            Self::NewlineInName => "line feed in a measurement, tag or field key",
            Self::TrailingBackslash => "name ends with a backslash",
            Self::BackslashBeforeSeparator => {
                "field key has a separator after an odd run of backslashes"
            }
            Self::TagNamedTime => "invalid tag key: input tag \"time\" is invalid",
            Self::DuplicateTag => "duplicate tags",
            Self::FieldTypeConflict => "field type conflict",
            Self::LineSplit => "InfluxDB 1.x's line splitter would end the line elsewhere",
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
