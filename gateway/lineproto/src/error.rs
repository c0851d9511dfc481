//! Why the canonicaliser rejected a line, in InfluxDB 1.x's words.
//!
//! Each kind but the last few is an error of influxd 1.x's line parser
//! (`models/points.go`, `ParsePointsWithPrecision` and the `scan*` functions it calls) or
//! of its storage layer (`tsdb/shard.go` `validateSeriesAndFields`, the engine's field
//! type check), and displays as influxd's message. The last few are Sluice's own: lines
//! that 1.x accepts but whose canonical form 1.x would not read back the same.

use crate::excerpt::Excerpt;
use crate::scan::MAX_KEY_LEN;
use crate::scan::value::FieldType;
use std::fmt;

/// How much of a number, timestamp, field key or measurement an [`ErrorKind`] quotes.
pub const QUOTE: usize = 40;

/// A quote of offending input inside an [`ErrorKind`].
pub type Quote = Excerpt<QUOTE>;

/// How much of a field key or measurement [`ErrorKind::FieldTypeConflictInRequest`]
/// quotes (two of them, so that errors stay small).
pub const NAME: usize = 20;

/// A field key or measurement quoted inside an [`ErrorKind`].
pub type Name = Excerpt<NAME>;

/// What is wrong with a line. [`Display`](fmt::Display) gives InfluxDB 1.x's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line starts with a comma (`,t=a v=1`; `scanMeasurement`).
    MissingMeasurement,
    /// A tag key that is empty or starts with `=` (`m,=a v=1`, `m,t=a, v=1`;
    /// `scanTagsKey`).
    MissingTagKey,
    /// A tag key that ends before its `=`, or an empty tag value (`m,t v=1`,
    /// `m,t= v=1`; `scanTagsKey`, `scanTagsValue`).
    MissingTagValue,
    /// An unescaped `=` in a tag value after its first byte (`m,t=a=b v=1`;
    /// `scanTagsValue`).
    InvalidTagFormat,
    /// Two tags with the same key as written (`m,t=a,t=b v=1`; `scanKey`).
    DuplicateTags,
    /// The line ends in the measurement or tags (`m`, `m,t=a`).
    MissingFields,
    /// A field key that is empty after a space or comma (`m =1`, `m a=1,=2`;
    /// `scanFields`).
    MissingFieldKey,
    /// A field with an empty value (`m v=`, `m v=,w=1`; `scanFields`).
    MissingFieldValue,
    /// Keys and values that do not pair up: a field without `=`, a trailing comma
    /// (`m v`, `m v=1,`; `scanFields`).
    InvalidFieldFormat,
    /// A field set that scans but does not split into `key=value` pairs the way 1.x
    /// reads it back (`m a\\=1`; `walkFields`), quoting the field key read.
    InvalidValue(Quote),
    /// A value that starts like a number but is not one (`1.2.3`, `1x`, `nan`, `-1u`,
    /// and any `u` integer when unsigned integers are not enabled; `scanNumber`).
    InvalidNumber,
    /// An `i` integer outside the `i64` range, quoting its digits.
    IntegerOutOfRange(Quote),
    /// A `u` integer outside the `u64` range, quoting its digits.
    UnsignedOutOfRange(Quote),
    /// A float that does not parse or is out of range (`1e400`, `1e`, `.e5`).
    InvalidFloat,
    /// A value that is neither a number, a string nor one of the boolean spellings.
    InvalidBoolean,
    /// A string field value without its closing quote.
    UnbalancedQuotes,
    /// A timestamp with something other than digits (and a leading `-`), or a tab or
    /// other byte right after it (`scanTime`).
    BadTimestamp,
    /// A timestamp that is a lone `-`.
    TimestampSyntax,
    /// Timestamp digits outside the `i64` range, quoted.
    TimestampOutOfRange(Quote),
    /// A timestamp outside InfluxDB's range once converted to nanoseconds.
    TimeOutsideRange,
    /// Something other than spaces after the timestamp (`m v=1 5 x`).
    InvalidPoint,
    /// Measurement and tags, or those and a field key, longer than InfluxDB's series key
    /// limit.
    MaxKeyLengthExceeded(usize),
    /// A tag key `time`, which the store refuses (`tsdb/shard.go`), quoting the
    /// measurement.
    InvalidTagKeyTime(Quote),
    /// Only fields named `time`, which the store refuses (it drops the others named
    /// `time` and keeps the point), quoting the measurement.
    InvalidFieldNameTime(Quote),
    /// Two fields with the same key and values of different types: the store refuses the
    /// whole request then (the engine's cache).
    FieldTypeConflict,
    /// A field whose value has another type than the same field of an earlier point of
    /// the request (same measurement and field key as written): 1.x's store drops the
    /// point (`tsdb/shard.go` `validateSeriesAndFields` once the field exists, the whole
    /// request while both are new), quoting field key and measurement.
    FieldTypeConflictInRequest {
        /// The field key.
        field: Name,
        /// The measurement.
        measurement: Name,
        /// This point's type.
        input: FieldType,
        /// The type the earlier point gave the field.
        existing: FieldType,
    },
    /// Sluice's own: a field set that starts with `=` after a tab or NUL. 1.x stores a
    /// field with an empty key then, which no canonical line can carry (after the single
    /// space of canonical form, 1.x answers "missing field key").
    EmptyFieldKey,
    /// Sluice's own: a field set that ends with a backslash escaping nothing (`m
    /// v="a"\` at the end of the body). Followed by the space before the timestamp, 1.x
    /// would read the backslash as escaping that space.
    TrailingBackslash,
    /// Sluice's own: a line whose canonical form 1.x's line splitter (`scanLine`)
    /// would end elsewhere: inside a quoted string, taking the next line of a forwarded
    /// batch into it, or at a line feed inside a string value. It takes a key with a
    /// space after an even run of backslashes (which the splitter reads as a space, the
    /// parser as escaped) and quotes after it.
    LineSplit,
    /// Sluice's own: a field that 1.x stores as a string one quote long (`m
    /// a\="x=1",b="`, split by `walkFields`): 1.x's storage engine panics on it and
    /// the whole influxd process exits.
    LoneQuote,
    /// Sluice's own: a field value that 1.x's parser accepts but its storage engine
    /// cannot read back as the type it gives it (`m a\="x=1",b=2` stores `1",b=2` as a
    /// float), quoted: 1.x fails the whole request with a 500.
    UnstorableValue(Quote),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Self::MissingMeasurement => "missing measurement",
            Self::MissingTagKey => "missing tag key",
            Self::MissingTagValue => "missing tag value",
            Self::InvalidTagFormat => "invalid tag format",
            Self::DuplicateTags => "duplicate tags",
            Self::MissingFields => "missing fields",
            Self::MissingFieldKey => "missing field key",
            Self::MissingFieldValue => "missing field value",
            Self::InvalidFieldFormat => "invalid field format",
            Self::InvalidValue(key) => return write!(f, "invalid value: field-key={key}"),
            Self::InvalidNumber => "invalid number",
            Self::IntegerOutOfRange(digits) => {
                return write!(
                    f,
                    "unable to parse integer {digits}: strconv.ParseInt: parsing \"{digits}\": value out of range"
                );
            }
            Self::UnsignedOutOfRange(digits) => {
                return write!(
                    f,
                    "unable to parse unsigned {digits}: strconv.ParseUint: parsing \"{digits}\": value out of range"
                );
            }
            Self::InvalidFloat => "invalid float",
            Self::InvalidBoolean => "invalid boolean",
            Self::UnbalancedQuotes => "unbalanced quotes",
            Self::BadTimestamp => "bad timestamp",
            Self::TimestampSyntax => "strconv.ParseInt: parsing \"-\": invalid syntax",
            Self::TimestampOutOfRange(digits) => {
                return write!(
                    f,
                    "strconv.ParseInt: parsing \"{digits}\": value out of range"
                );
            }
            Self::TimeOutsideRange => {
                "time outside range -9223372036854775806 - 9223372036854775806"
            }
            Self::InvalidPoint => "point is invalid",
            Self::MaxKeyLengthExceeded(len) => {
                return write!(f, "max key length exceeded: {len} > {MAX_KEY_LEN}");
            }
            Self::InvalidTagKeyTime(m) => {
                return write!(
                    f,
                    "invalid tag key: input tag \"time\" on measurement \"{m}\" is invalid"
                );
            }
            Self::InvalidFieldNameTime(m) => {
                return write!(
                    f,
                    "invalid field name: input field \"time\" on measurement \"{m}\" is invalid"
                );
            }
            Self::FieldTypeConflict => "field type conflict",
            Self::FieldTypeConflictInRequest {
                field,
                measurement,
                input,
                existing,
            } => {
                return write!(
                    f,
                    "field type conflict: input field \"{field}\" on measurement \"{measurement}\" is type {input}, already exists as type {existing}"
                );
            }
            Self::EmptyFieldKey => "missing field key (empty after a tab or NUL)",
            Self::TrailingBackslash => "field set ends with a backslash",
            Self::LineSplit => {
                "unbalanced quotes: InfluxDB 1.x would split the canonical line elsewhere"
            }
            Self::LoneQuote => "string value is a lone quote, which crashes InfluxDB 1.x",
            Self::UnstorableValue(value) => {
                return write!(f, "InfluxDB 1.x cannot store the value \"{value}\"");
            }
        };
        f.write_str(message)
    }
}

impl ErrorKind {
    /// Whether 1.x's store refused the line, not its parser: InfluxDB then answers with
    /// the reason alone (no `unable to parse '<line>'`).
    pub fn is_store_refusal(&self) -> bool {
        matches!(
            self,
            Self::InvalidTagKeyTime(_)
                | Self::InvalidFieldNameTime(_)
                | Self::FieldTypeConflict
                | Self::FieldTypeConflictInRequest { .. }
        )
    }

    /// Whether InfluxDB 1.x reports the refusal as a partial write (`partial write:
    /// <reason> dropped=N`) even when no point was kept: the store dropped the point.
    pub fn is_partial_write(&self) -> bool {
        matches!(
            self,
            Self::InvalidTagKeyTime(_)
                | Self::InvalidFieldNameTime(_)
                | Self::FieldTypeConflictInRequest { .. }
        )
    }
}

impl std::error::Error for ErrorKind {}

/// How much of a rejected line [`LineError`] keeps.
pub const LINE_EXCERPT: usize = 100;

/// A rejected line: where, why, and its start.
///
/// Displays like InfluxDB 1.x: `unable to parse '<line>': <reason>`, or the reason alone
/// when the store refused the line ([`ErrorKind::is_store_refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the request body (a line that spans lines of the body,
    /// through a string value or an escaped line feed, counts every line it spans).
    pub line: usize,
    /// Why the line was rejected.
    pub kind: ErrorKind,
    /// The start of the line, without leading whitespace and the line end.
    pub text: Excerpt<LINE_EXCERPT>,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.is_store_refusal() {
            return self.kind.fmt(f);
        }
        write!(f, "unable to parse '{}': {}", self.text, self.kind)
    }
}

impl std::error::Error for LineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
