//! Why a line was rejected, in InfluxDB's words.

use std::fmt;

/// What is wrong with a line. Messages follow InfluxDB 1.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line starts with a separator.
    MissingMeasurement,
    /// `,=v` in the tag set.
    MissingTagKey,
    /// `,k=` in the tag set.
    MissingTagValue,
    /// A tag without `=`.
    InvalidTagFormat,
    /// No field set.
    MissingFields,
    /// `=v` in the field set.
    MissingFieldKey,
    /// `k=` in the field set.
    MissingFieldValue,
    /// A field without `=`, or junk after a value.
    InvalidFieldFormat,
    /// A numeric field value that is not a number.
    InvalidNumber,
    /// An integer outside its type's range.
    ValueOutOfRange,
    /// A value that starts like a boolean but is not one.
    InvalidBoolean,
    /// A string field value without its closing quote.
    UnbalancedQuotes,
    /// A field named `time`.
    InvalidFieldNameTime,
    /// A timestamp that is not an integer, or junk after it.
    BadTimestamp,
    /// A timestamp outside InfluxDB's range once converted to nanoseconds.
    TimeOutsideRange,
}

impl ErrorKind {
    /// The message InfluxDB gives.
    pub fn message(self) -> &'static str {
        match self {
            Self::MissingMeasurement => "missing measurement",
            Self::MissingTagKey => "missing tag key",
            Self::MissingTagValue => "missing tag value",
            Self::InvalidTagFormat => "invalid tag format",
            Self::MissingFields => "missing fields",
            Self::MissingFieldKey => "missing field key",
            Self::MissingFieldValue => "missing field value",
            Self::InvalidFieldFormat => "invalid field format",
            Self::InvalidNumber => "invalid number",
            Self::ValueOutOfRange => "value out of range",
            Self::InvalidBoolean => "invalid boolean",
            Self::UnbalancedQuotes => "unbalanced quotes",
            Self::InvalidFieldNameTime => "invalid field name: input field \"time\" is invalid",
            Self::BadTimestamp => "bad timestamp",
            Self::TimeOutsideRange => {
                "time outside range -9223372036854775806 - 9223372036854775806"
            }
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Longest excerpt of a bad line kept in the error.
const EXCERPT: usize = 100;

/// A rejected line: where, why, and its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the request body.
    pub line: usize,
    /// Why.
    pub kind: ErrorKind,
    /// The start of the line (at most 100 bytes, lossily UTF-8).
    pub text: String,
}

impl LineError {
    pub(crate) fn new(line: usize, kind: ErrorKind, raw: &[u8]) -> Self {
        let mut end = raw.len().min(EXCERPT);
        // Cut on a character boundary when the line is valid UTF-8 there.
        while end > 0 && end < raw.len() && (raw[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        let mut text = String::from_utf8_lossy(&raw[..end]).into_owned();
        if end < raw.len() {
            text.push('…');
        }
        Self { line, kind, text }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unable to parse '{}': {}", self.text, self.kind)
    }
}

impl std::error::Error for LineError {}
