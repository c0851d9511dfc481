//! Field values: numbers and booleans as 1.x checks them (`scanNumber`, `scanBoolean`
//! in `models/points.go`), and the type 1.x gives a value when it stores it
//! (`point.Next`, the field iterator).

use super::Stop;
use super::input::Input;
use crate::error::{ErrorKind, Quote};

/// Integers at least this long (sign included) are parsed to check their range
/// (`maxInt64Digits`).
const INT_CHECK_LEN: usize = 19;
/// Unsigned integers at least this long are parsed to check their range
/// (`maxUint64Digits`).
const UINT_CHECK_LEN: usize = 20;
/// Floats at least this long are parsed to check their range (`maxFloat64Digits`).
const FLOAT_CHECK_LEN: usize = 25;

/// The type of a field value, as 1.x reads it from the value's text; displays as
/// InfluxQL names it in 1.x's errors (`influxql.DataType`: `float`, `integer`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `1`, `1.5`, `1e9`.
    Float,
    /// `1i`.
    Integer,
    /// `1u`.
    Unsigned,
    /// `"…"`, and anything that starts with a quote.
    String,
    /// Anything else.
    Boolean,
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Float => "float",
            Self::Integer => "integer",
            Self::Unsigned => "unsigned",
            Self::String => "string",
            Self::Boolean => "boolean",
        })
    }
}

impl FieldType {
    /// The type 1.x gives the value `raw` (as `walkFields` splits it; `point.Next`): a
    /// quote first makes a string; a digit, `-`, `.`, `n`, `N`, `i`, `I` or `u` first
    /// makes a number, typed by its last byte; anything else is a boolean. `None` for an
    /// empty value.
    pub(crate) fn of(raw: &[u8]) -> Option<Self> {
        let first = *raw.first()?;
        Some(match first {
            b'"' => Self::String,
            b'0'..=b'9' | b'-' | b'.' | b'n' | b'N' | b'i' | b'I' | b'u' => match raw.last() {
                Some(b'i') => Self::Integer,
                Some(b'u') => Self::Unsigned,
                _ => Self::Float,
            },
            _ => Self::Boolean,
        })
    }
}

/// Whether 1.x's storage engine reads the value `raw` (as `walkFields` splits it) as the
/// type `ty` it gave it (`point.IntegerValue` and friends: Go's `strconv.ParseInt`,
/// `ParseUint`, `ParseFloat`, `ParseBool`; a string needs its two quotes or the engine
/// panics). Values the parser checked always are; this is for field sets that the
/// parser and the field splitter read differently.
pub(crate) fn storable(raw: &[u8], ty: FieldType) -> bool {
    let number = raw.get(..raw.len().saturating_sub(1)).unwrap_or_default();
    match ty {
        FieldType::String => raw.len() >= 2,
        FieldType::Integer => {
            let digits = match number.split_first() {
                Some((b'+' | b'-', rest)) => rest,
                _ => number,
            };
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && fits_i64(number)
        }
        FieldType::Unsigned => parse_u64(number).is_some(),
        FieldType::Float => std::str::from_utf8(raw)
            .ok()
            .is_some_and(|s| s.parse::<f64>().is_ok()),
        FieldType::Boolean => matches!(
            raw,
            b"1" | b"t"
                | b"T"
                | b"TRUE"
                | b"true"
                | b"True"
                | b"0"
                | b"f"
                | b"F"
                | b"FALSE"
                | b"false"
                | b"False"
        ),
    }
}

/// Checks the number that starts at `start` (a digit, `.`, `-`, `n` or `N`); returns its
/// end (`scanNumber`). `u` integers are refused unless `unsigned` (1.x's default build
/// refuses them: `enableUint64Support`).
#[inline]
pub(super) fn number(inp: &Input<'_>, start: usize, unsigned: bool) -> Result<usize, Stop> {
    let b = inp.b;
    let mut i = start;
    let negative = b.get(i) == Some(&b'-');
    if negative {
        i += 1;
        if inp.at_end(i) {
            return Err(ErrorKind::InvalidNumber.into());
        }
    }
    let (mut int, mut uint, mut decimal, mut scientific) = (false, false, false, false);
    loop {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if inp.at_end(i) {
            break;
        }
        match b.get(i).copied().unwrap_or_default() {
            b',' | b' ' => break,
            b'i' if i > start && !(int || uint) => int = true,
            b'u' if i > start && !(int || uint) => uint = true,
            b'.' if !decimal => decimal = true,
            b'e' | b'E' if i > start => scientific = true,
            b'+' | b'-' if matches!(b.get(i - 1), Some(b'e' | b'E')) => {}
            _ => return Err(ErrorKind::InvalidNumber.into()),
        }
        i += 1;
    }
    if (int || uint) && (decimal || scientific) {
        return Err(ErrorKind::InvalidNumber.into());
    }
    let digits = i - start - usize::from(int) - usize::from(decimal) - usize::from(negative);
    if digits == 0 {
        return Err(ErrorKind::InvalidNumber.into());
    }
    let last = b.get(i - 1).copied();
    if int {
        let text = b.get(start..i - 1).unwrap_or_default();
        if last != Some(b'i') {
            return Err(ErrorKind::InvalidNumber.into());
        }
        if text.len() >= INT_CHECK_LEN && !fits_i64(text) {
            return Err(ErrorKind::IntegerOutOfRange(Quote::new(text)).into());
        }
    } else if uint {
        let text = b.get(start..i - 1).unwrap_or_default();
        if !unsigned || last != Some(b'u') || negative {
            return Err(ErrorKind::InvalidNumber.into());
        }
        if text.len() >= UINT_CHECK_LEN && parse_u64(text).is_none() {
            return Err(ErrorKind::UnsignedOutOfRange(Quote::new(text)).into());
        }
    } else {
        let text = b.get(start..i);
        if (scientific || i - start >= FLOAT_CHECK_LEN) && !finite_float(text) {
            return Err(ErrorKind::InvalidFloat.into());
        }
    }
    Ok(i)
}

/// Whether decimal digits with an optional sign fit an `i64`.
fn fits_i64(text: &[u8]) -> bool {
    match text.split_first() {
        Some((b'-', digits)) => parse_u64(digits).is_some_and(|v| v <= i64::MIN.unsigned_abs()),
        Some((b'+', digits)) => parse_u64(digits).is_some_and(|v| v <= i64::MAX.unsigned_abs()),
        _ => parse_u64(text).is_some_and(|v| v <= i64::MAX.unsigned_abs()),
    }
}

/// Parses decimal digits, `None` when they overflow a `u64` (or are not all digits).
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |v, &c| {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Whether a float's text parses (Go's `strconv.ParseFloat` and Rust's `f64` parser take
/// the same decimal syntax) to a finite value.
fn finite_float(text: Option<&[u8]>) -> bool {
    text.and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(f64::is_finite)
}

/// Checks the boolean that starts at `start`; returns its end (`scanBoolean`): `t`,
/// `T`, `true`, `True`, `TRUE`, and the same for false, up to a `,` or space.
#[inline]
pub(super) fn boolean(inp: &Input<'_>, start: usize) -> Result<usize, Stop> {
    let b = inp.b;
    if !matches!(b.get(start), Some(b't' | b'T' | b'f' | b'F')) {
        return Err(ErrorKind::InvalidBoolean.into());
    }
    let mut i = start + 1;
    while !inp.at_end(i) && !matches!(b.get(i), Some(b',' | b' ')) {
        i += 1;
    }
    match b.get(start..i) {
        Some(
            b"t" | b"T" | b"true" | b"True" | b"TRUE" | b"f" | b"F" | b"false" | b"False"
            | b"FALSE",
        ) => Ok(i),
        _ => Err(ErrorKind::InvalidBoolean.into()),
    }
}

/// Checks a field value on its own, as the view reads it from a canonical line
/// (unsigned integers allowed); returns its type.
pub(crate) fn check_value(raw: &[u8]) -> Result<FieldType, ErrorKind> {
    let inp = Input::exact(raw, raw.len());
    let end = match raw.first() {
        None => return Err(ErrorKind::MissingFieldValue),
        // 1.x keeps the bytes between the first and the last as the string, whatever
        // they are (`point.StringValue`).
        Some(b'"') if raw.len() >= 2 => return Ok(FieldType::String),
        Some(b'"') => return Err(ErrorKind::UnbalancedQuotes),
        Some(b'0'..=b'9' | b'.' | b'-' | b'n' | b'N') => number(&inp, 0, true),
        Some(_) => boolean(&inp, 0),
    };
    match end {
        Ok(end) if end == raw.len() => FieldType::of(raw).ok_or(ErrorKind::MissingFieldValue),
        Ok(_) => Err(ErrorKind::InvalidFieldFormat),
        Err(Stop::Bad(kind)) => Err(kind),
        Err(Stop::Retry) => Err(ErrorKind::InvalidFieldFormat),
    }
}
