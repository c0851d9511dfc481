//! Why the canonicaliser rejected a line, in InfluxDB 1.x's words.

use crate::excerpt::Excerpt;
use crate::scan::MAX_KEY_LEN;
use std::fmt;

/// What is wrong with a line. [`Display`](fmt::Display) gives InfluxDB 1.x's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line starts with a separator (`,t=a v=1`).
    MissingMeasurement,
    /// A tag with an empty key (`m,=a v=1`, `m,t=a, v=1`).
    MissingTagKey,
    /// A tag with an empty value or without `=` (`m,t= v=1`, `m,t v=1`).
    MissingTagValue,
    /// An unescaped `=` in a tag value (`m,t=a=b v=1`).
    InvalidTagFormat,
    /// No field set (`m`, `m,t=a`).
    MissingFields,
    /// A field with an empty key (`m =1`, `m a=1,=2`).
    MissingFieldKey,
    /// A field with an empty value (`m v=`, `m v=,w=1`).
    MissingFieldValue,
    /// A field without `=`, an empty field after a comma, or junk after a string value.
    InvalidFieldFormat,
    /// A numeric field value that is not a number (`1.2.3`, `1e`, `nan`, `-1u`).
    InvalidNumber,
    /// An `i` integer outside the `i64` range.
    IntegerOutOfRange,
    /// A `u` integer outside the `u64` range.
    UnsignedOutOfRange,
    /// A float outside the `f64` range (`1e400`).
    InvalidFloat,
    /// A value that is neither a number, a string nor one of the boolean spellings.
    InvalidBoolean,
    /// A string field value without its closing quote.
    UnbalancedQuotes,
    /// A field named `time`.
    InvalidFieldNameTime,
    /// A timestamp that is not an integer, or something other than whitespace after it.
    BadTimestamp,
    /// A timestamp outside InfluxDB's range once converted to nanoseconds.
    TimeOutsideRange,
    /// Measurement, tags and a field key longer than InfluxDB's series key limit.
    MaxKeyLengthExceeded(usize),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Self::MissingMeasurement => "missing measurement",
            Self::MissingTagKey => "missing tag key",
            Self::MissingTagValue => "missing tag value",
            Self::InvalidTagFormat => "invalid tag format",
            Self::MissingFields => "missing fields",
            Self::MissingFieldKey => "missing field key",
            Self::MissingFieldValue => "missing field value",
            Self::InvalidFieldFormat => "invalid field format",
            Self::InvalidNumber => "invalid number",
            Self::IntegerOutOfRange => "unable to parse integer: value out of range",
            Self::UnsignedOutOfRange => "unable to parse unsigned: value out of range",
            Self::InvalidFloat => "invalid float",
            Self::InvalidBoolean => "invalid boolean",
            Self::UnbalancedQuotes => "unbalanced quotes",
            Self::InvalidFieldNameTime => "invalid field name: input field \"time\" is invalid",
            Self::BadTimestamp => "bad timestamp",
            Self::TimeOutsideRange => {
                "time outside range -9223372036854775806 - 9223372036854775806"
            }
            Self::MaxKeyLengthExceeded(len) => {
                return write!(f, "max key length exceeded: {len} > {MAX_KEY_LEN}");
            }
        };
        f.write_str(message)
    }
}

impl std::error::Error for ErrorKind {}

/// How much of a rejected line [`LineError`] keeps.
pub const LINE_EXCERPT: usize = 100;

/// A rejected line: where, why, and its start.
///
/// Displays like InfluxDB 1.x: `unable to parse '<line>': <reason>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the request body (a string value spanning lines counts
    /// every line it spans).
    pub line: usize,
    /// Why the line was rejected.
    pub kind: ErrorKind,
    /// The start of the line, without leading whitespace and the line end.
    pub text: Excerpt<LINE_EXCERPT>,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unable to parse '{}': {}", self.text, self.kind)
    }
}

impl std::error::Error for LineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
