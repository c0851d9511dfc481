//! The validating line scanner of [`canonicalize`](crate::canonicalize()): one pass over
//! one point that checks InfluxDB 1.x's rules and says where its sections are. No
//! allocation and no panic, whatever the input. The [view](crate::view) shares its
//! helpers (`swar`, `rejected_line_end`, value checks) but not the full check.
//!
//! Escapes: a backslash takes the byte after it along (so `\,` `\ ` `\=` `\\` never
//! separate), except a line feed, which always ends the line outside a quoted string.

pub(crate) mod swar;
mod value;

pub(crate) use swar::line_feed;
pub(crate) use value::check_value;

use crate::error::ErrorKind;

/// InfluxDB's limit on a series key: measurement, tags, `#!~#` and one field key.
pub(crate) const MAX_KEY_LEN: usize = 65_535;
/// Bytes InfluxDB adds between the key and a field key when it checks [`MAX_KEY_LEN`].
const FIELD_KEY_SEPARATOR_LEN: usize = 4;

/// Index of the first byte at or after `i` that is neither a space nor a tab.
#[inline]
pub(crate) fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Whether a line ends at `i`: the end of input, LF, or CR before LF (or before the end).
#[inline]
pub(crate) fn at_line_end(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None | Some(b'\n') => true,
        Some(b'\r') => matches!(b.get(i + 1), None | Some(b'\n')),
        Some(_) => false,
    }
}

/// Index just past the line end at `i` (which [`at_line_end`] accepted).
#[inline]
fn past_line_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        None => b.len(),
        Some(b'\r') if b.get(i + 1) == Some(&b'\n') => i + 2,
        Some(_) => i + 1,
    }
}

/// Index past a backslash at `i` and the byte it escapes (a line feed is not escaped).
#[inline(always)]
fn past_escape(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(b'\n') | None => i + 1,
        Some(_) => i + 2,
    }
}

/// Where one point's sections are, as offsets into the scanned input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections {
    /// End of measurement and tags (the space before the fields).
    pub(crate) key_end: usize,
    /// Start of the field set.
    pub(crate) fields_start: usize,
    /// End of the field set.
    pub(crate) fields_end: usize,
    /// Start of the timestamp text (`ts_end` when there is none).
    pub(crate) ts_start: usize,
    /// End of the timestamp text.
    pub(crate) ts_end: usize,
    /// The timestamp as written, in the request's unit.
    pub(crate) timestamp: Option<i64>,
    /// Start of the next line.
    pub(crate) next: usize,
    /// Line feeds inside string values: lines the point spans beyond its first.
    pub(crate) newlines: usize,
}

/// Scans the point that starts at `start` (after any leading whitespace).
pub(crate) fn point(b: &[u8], start: usize) -> Result<Sections, ErrorKind> {
    let key_end = key(b, start)?;
    let key_len = key_end - start;
    if key_len > MAX_KEY_LEN {
        return Err(ErrorKind::MaxKeyLengthExceeded(key_len));
    }
    let fields_start = skip_blank(b, key_end + 1);
    if at_line_end(b, fields_start) {
        return Err(ErrorKind::MissingFields);
    }
    let mut newlines = 0;
    let fields_end = fields(b, fields_start, key_len, &mut newlines)?;
    let ts_start = skip_blank(b, fields_end);
    let (ts_end, timestamp) = if at_line_end(b, ts_start) {
        (ts_start, None)
    } else {
        let (ts_end, ts) = timestamp(b, ts_start)?;
        (ts_end, Some(ts))
    };
    let end = skip_blank(b, ts_end);
    if !at_line_end(b, end) {
        return Err(ErrorKind::BadTimestamp);
    }
    Ok(Sections {
        key_end,
        fields_start,
        fields_end,
        ts_start,
        ts_end,
        timestamp,
        next: past_line_end(b, end),
        newlines,
    })
}

/// Scans measurement and tags; returns the key's end (a space).
fn key(b: &[u8], start: usize) -> Result<usize, ErrorKind> {
    if let Some(b',' | b' ') = b.get(start) {
        return Err(ErrorKind::MissingMeasurement);
    }
    let mut i = start;
    loop {
        i = swar::name_stop(b, i);
        match b.get(i) {
            Some(b'\\') => i = past_escape(b, i),
            Some(b',') => break,
            Some(b' ') => return Ok(i),
            _ if at_line_end(b, i) => return Err(ErrorKind::MissingFields),
            _ => i += 1,
        }
    }
    loop {
        // At a `,`: a tag key follows.
        i += 1;
        let key = i;
        loop {
            i = swar::name_stop(b, i);
            match b.get(i) {
                Some(b'\\') => i = past_escape(b, i),
                Some(b'=') => break,
                Some(b',' | b' ') => return Err(tag_without_value(i == key)),
                _ if at_line_end(b, i) => return Err(tag_without_value(i == key)),
                _ => i += 1,
            }
        }
        if i == key {
            return Err(ErrorKind::MissingTagKey);
        }
        i += 1;
        let value = i;
        loop {
            i = swar::name_stop(b, i);
            match b.get(i) {
                Some(b'\\') => i = past_escape(b, i),
                Some(b'=') => return Err(ErrorKind::InvalidTagFormat),
                Some(b',' | b' ') => break,
                _ if at_line_end(b, i) => break,
                _ => i += 1,
            }
        }
        if i == value {
            return Err(ErrorKind::MissingTagValue);
        }
        match b.get(i) {
            Some(b',') => {}
            Some(b' ') => return Ok(i),
            _ => return Err(ErrorKind::MissingFields),
        }
    }
}

/// The error for a tag key that ends before its `=`: InfluxDB says "missing tag value"
/// unless the key is empty.
fn tag_without_value(empty_key: bool) -> ErrorKind {
    if empty_key {
        ErrorKind::MissingTagKey
    } else {
        ErrorKind::MissingTagValue
    }
}

/// Scans the field set from `start`; returns its end (a space or the line end).
fn fields(
    b: &[u8],
    start: usize,
    key_len: usize,
    newlines: &mut usize,
) -> Result<usize, ErrorKind> {
    let mut i = start;
    loop {
        let key = i;
        loop {
            i = swar::name_stop(b, i);
            match b.get(i) {
                Some(b'\\') => i = past_escape(b, i),
                Some(b'=') => break,
                Some(b',' | b' ') => return Err(ErrorKind::InvalidFieldFormat),
                _ if at_line_end(b, i) => return Err(ErrorKind::InvalidFieldFormat),
                _ => i += 1,
            }
        }
        let field_key = b.get(key..i).unwrap_or_default();
        if field_key.is_empty() {
            return Err(ErrorKind::MissingFieldKey);
        }
        if field_key == b"time" {
            return Err(ErrorKind::InvalidFieldNameTime);
        }
        let series_key = key_len + FIELD_KEY_SEPARATOR_LEN + field_key.len();
        if series_key > MAX_KEY_LEN {
            return Err(ErrorKind::MaxKeyLengthExceeded(series_key));
        }
        i = value::field_value(b, i + 1, newlines)?;
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return Ok(i),
        }
    }
}

/// Parses an optionally negative decimal timestamp at `start` (not at a line end);
/// returns its end and value.
fn timestamp(b: &[u8], start: usize) -> Result<(usize, i64), ErrorKind> {
    let negative = b.get(start) == Some(&b'-');
    let digits = start + usize::from(negative);
    let (end, magnitude) = swar::decimal(b, digits);
    if end == digits || !(at_line_end(b, end) || matches!(b.get(end), Some(b' ' | b'\t'))) {
        return Err(ErrorKind::BadTimestamp);
    }
    let value = magnitude.and_then(|m| {
        if negative {
            0i64.checked_sub_unsigned(m)
        } else {
            i64::try_from(m).ok()
        }
    });
    value.map(|v| (end, v)).ok_or(ErrorKind::TimeOutsideRange)
}

/// Whether a timestamp's text is how [`crate::decimal`] writes its value (no leading
/// zeros, no `-0`), so that it can be copied instead of formatted.
pub(crate) fn is_canonical_timestamp(text: &[u8]) -> bool {
    !matches!(text, [b'0', _, ..] | [b'-', b'0', ..])
}

/// End of the line that starts at `start` when it is rejected: the next line feed outside
/// a quoted field value, found the way InfluxDB 1.x splits lines (so a rejected line
/// with a multi-line string is dropped whole), except that a backslash never escapes a
/// line feed. Returns the index of that line feed, or the end of input.
pub(crate) fn rejected_line_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    let mut quoted = false;
    let mut in_fields = false;
    let (mut equals, mut commas) = (0usize, 0usize);
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' if !matches!(b.get(i + 1), Some(b'\n') | None) => {
                i += 2;
                continue;
            }
            b'\n' if !quoted => return i,
            b' ' => in_fields = true,
            b'=' if in_fields && !quoted => equals += 1,
            b',' if in_fields && !quoted => commas += 1,
            b'"' if in_fields && equals > commas => quoted = !quoted,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests;
