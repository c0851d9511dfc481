//! Field values: strings, numbers and booleans, checked the way InfluxDB 1.x checks them.

use super::{at_line_end, swar};
use crate::error::ErrorKind;

/// Digits of the largest `i64`; shorter integers cannot overflow.
const I64_SAFE_DIGITS: usize = 18;
/// Digits of the largest `u64`; shorter integers cannot overflow.
const U64_SAFE_DIGITS: usize = 19;
/// Floats at least this long are parsed to check their range (as InfluxDB does).
const FLOAT_CHECK_LEN: usize = 25;

/// Whether a value ends at `i`: a comma, a space or the line end.
#[inline(always)]
fn at_value_end(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None | Some(b',' | b' ' | b'\n') => true,
        Some(b'\r') => at_line_end(b, i),
        Some(_) => false,
    }
}

/// Checks a field value on its own (as the view reads it): `Ok` when it is valid.
pub(crate) fn check_value(raw: &[u8]) -> Result<(), ErrorKind> {
    match field_value(raw, 0, &mut 0)? {
        end if end == raw.len() => Ok(()),
        _ => Err(ErrorKind::InvalidFieldFormat),
    }
}

/// Checks the field value at `i` (just past `=`); returns its end. Counts line feeds
/// inside a string value in `newlines`.
#[inline]
pub(super) fn field_value(b: &[u8], i: usize, newlines: &mut usize) -> Result<usize, ErrorKind> {
    match b.get(i) {
        Some(b'"') => string(b, i + 1, newlines),
        Some(b'0'..=b'9' | b'.' | b'-') => number(b, i),
        Some(b't' | b'T' | b'f' | b'F') => boolean(b, i),
        Some(b'n' | b'N') => Err(ErrorKind::InvalidNumber),
        _ if at_value_end(b, i) => Err(ErrorKind::MissingFieldValue),
        _ => Err(ErrorKind::InvalidBoolean),
    }
}

/// Scans a quoted string's body from `i` (past the opening quote) to past its closing
/// quote, which must end the value.
fn string(b: &[u8], mut i: usize, newlines: &mut usize) -> Result<usize, ErrorKind> {
    let body = i;
    loop {
        i = swar::string_stop(b, i);
        match b.get(i) {
            None => return Err(ErrorKind::UnbalancedQuotes),
            Some(b'"') => break,
            Some(_) => i += 2,
        }
    }
    let text = b.get(body..i).unwrap_or_default();
    *newlines += text.iter().filter(|&&c| c == b'\n').count();
    i += 1;
    if at_value_end(b, i) {
        Ok(i)
    } else {
        Err(ErrorKind::InvalidFieldFormat)
    }
}

/// Index of the first non-digit at or after `i`.
#[inline(always)]
fn skip_digits(b: &[u8], i: usize) -> usize {
    let rest = b.get(i..).unwrap_or_default();
    i + rest.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Checks a float (`1`, `-1.5`, `.5`, `1.`, `1e9`, `-1.5E-3`), `i` integer or `u`
/// unsigned integer at `start`; returns its end.
fn number(b: &[u8], start: usize) -> Result<usize, ErrorKind> {
    let negative = b.get(start) == Some(&b'-');
    let int_start = start + usize::from(negative);
    let mut i = skip_digits(b, int_start);
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    match b.get(i) {
        Some(b'i') if int_digits > 0 && at_value_end(b, i + 1) => {
            if int_digits > I64_SAFE_DIGITS && !fits_i64(b.get(start..i).unwrap_or_default()) {
                return Err(ErrorKind::IntegerOutOfRange);
            }
            return Ok(i + 1);
        }
        Some(b'u') if int_digits > 0 && !negative && at_value_end(b, i + 1) => {
            let digits = b.get(int_start..i).unwrap_or_default();
            if int_digits > U64_SAFE_DIGITS && parse_u64(digits).is_none() {
                return Err(ErrorKind::UnsignedOutOfRange);
            }
            return Ok(i + 1);
        }
        Some(b'.') => {
            let frac_start = i + 1;
            i = skip_digits(b, frac_start);
            frac_digits = i - frac_start;
        }
        _ => {}
    }
    if int_digits + frac_digits == 0 {
        return Err(ErrorKind::InvalidNumber);
    }
    let mut scientific = false;
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let exp_start = i;
        i = skip_digits(b, i);
        if i == exp_start {
            return Err(ErrorKind::InvalidNumber);
        }
        scientific = true;
    }
    if !at_value_end(b, i) {
        return Err(ErrorKind::InvalidNumber);
    }
    if (scientific || i - start >= FLOAT_CHECK_LEN) && !finite_float(b.get(start..i)) {
        return Err(ErrorKind::InvalidFloat);
    }
    Ok(i)
}

/// Whether optionally negative decimal digits fit an `i64`.
fn fits_i64(text: &[u8]) -> bool {
    match text.split_first() {
        Some((b'-', digits)) => parse_u64(digits).is_some_and(|v| v <= i64::MIN.unsigned_abs()),
        _ => parse_u64(text).is_some_and(|v| v <= i64::MAX.unsigned_abs()),
    }
}

/// Parses decimal digits, `None` when they overflow a `u64` (or are not all digits).
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |v, &c| {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Whether a syntactically valid float is finite.
fn finite_float(text: Option<&[u8]>) -> bool {
    text.and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(f64::is_finite)
}

/// Checks a boolean at `start`; returns its end.
fn boolean(b: &[u8], start: usize) -> Result<usize, ErrorKind> {
    let mut end = start;
    while !at_value_end(b, end) {
        end += 1;
    }
    match b.get(start..end) {
        Some(
            b"t" | b"T" | b"true" | b"True" | b"TRUE" | b"f" | b"F" | b"false" | b"False"
            | b"FALSE",
        ) => Ok(end),
        _ => Err(ErrorKind::InvalidBoolean),
    }
}
