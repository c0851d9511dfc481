//! Finding the sections of a canonical line, fast: the view trusts that a batch came
//! out of [`canonicalize`](crate::canonicalize()) (or a [`LineWriter`](crate::LineWriter))
//! and only checks the structure it relies on, so that reading stays in bounds and
//! meaningful: a measurement, an unescaped space before the fields, string values closed,
//! an unescaped space before a canonical nanosecond timestamp, and the line feed right
//! after it. Tags and field values are read leniently later (see [`Field::value`]).
//!
//! Sections are found with InfluxDB 1.x's rules (see the scanner), so that a plugin reads
//! a line as 1.x will: in the key a separator is escaped when the byte before it is a
//! backslash; in the field set a backslash takes the next byte along, and a quote opens a
//! string only where a value is expected; a line feed after an odd run of backslashes does
//! not end the line.
//!
//! [`Field::value`]: super::Field::value

use super::error::ViewErrorKind;
use crate::error::ErrorKind;
use crate::scan::stops::{self, Stops};
use crate::scan::swar;
use crate::scan::{is_canonical_timestamp, odd_backslashes_before};

/// Where the sections of a line are (absolute offsets).
#[derive(Debug, Clone, Copy)]
pub(super) struct Split {
    /// End of the measurement (its `,` or space).
    pub(super) measurement_end: usize,
    /// The space before the field set.
    pub(super) key_end: usize,
    /// The space before the timestamp.
    pub(super) fields_end: usize,
    /// The line's end (its line feed, or the end of the batch).
    pub(super) end: usize,
    /// Line feeds inside string values.
    pub(super) newlines: usize,
}

/// Bytes that may end a name in a key: `,` and bytes below `!` (space, LF; and false
/// hits).
const KEY_STOPS: Stops = Stops {
    below: b'!',
    any: b",",
};

/// The first byte at or after `i` that ends a name in the key as 1.x's parser reads it:
/// a `,` (if `comma`) or a space whose byte before is not a backslash; or a line feed
/// that no odd run of backslashes escapes (an error: the line ends inside its key).
/// Escaped line feeds are counted in `newlines`.
#[inline(always)]
fn key_stop(b: &[u8], i: usize, comma: bool, newlines: &mut usize) -> usize {
    stops::find(b, i, KEY_STOPS, |i, c| {
        let escaped = b.get(i.wrapping_sub(1)) == Some(&b'\\');
        match c {
            b',' => comma && !escaped,
            b' ' => !escaped,
            b'\n' if escaped && odd_backslashes_before(b, i) => {
                *newlines += 1;
                false
            }
            b'\n' => true,
            _ => false,
        }
    })
}

/// Splits the line at `start` (not empty). With `TRUST`, the timestamp is taken as
/// written, up to the line feed, without checking or reading it (see
/// [`trusted_points`](super::trusted_points)); everything before it is found the same
/// way, so both modes agree on canonical input.
#[inline(always)]
pub(super) fn split<const TRUST: bool>(b: &[u8], start: usize) -> Result<Split, ViewErrorKind> {
    use ErrorKind::*;
    let syntax = ViewErrorKind::Syntax;
    match b.get(start) {
        Some(b'#' | b' ' | b'\t' | 0) => return Err(ViewErrorKind::NotCanonical),
        Some(b',') => return Err(syntax(MissingMeasurement)),
        _ => {}
    }
    let mut newlines = 0;
    // Measurement: up to the first unescaped comma or space after its first byte; then
    // the key, up to the first unescaped space.
    let measurement_end = key_stop(b, start + 1, true, &mut newlines);
    let key_end = match b.get(measurement_end) {
        Some(b' ') => measurement_end,
        Some(b',') => key_stop(b, measurement_end + 1, false, &mut newlines),
        _ => return Err(syntax(MissingFields)),
    };
    if b.get(key_end) != Some(&b' ') {
        return Err(syntax(MissingFields));
    }
    let fields_start = key_end + 1;
    match b.get(fields_start) {
        Some(b' ' | b'\t' | 0) => return Err(ViewErrorKind::NotCanonical),
        Some(b'=') => return Err(syntax(MissingFieldKey)),
        _ => {}
    }
    let fields_end = fields_end(b, fields_start, &mut newlines)?;
    if fields_end == fields_start {
        return Err(syntax(MissingFields));
    }
    // Timestamp: canonical digits up to the line feed.
    let ts_start = fields_end + 1;
    if TRUST {
        let end = stops::line_feed(b, ts_start);
        if end == ts_start {
            return Err(syntax(BadTimestamp));
        }
        return Ok(Split {
            measurement_end,
            key_end,
            fields_end,
            end,
            newlines,
        });
    }
    let digits = ts_start + usize::from(b.get(ts_start) == Some(&b'-'));
    let (end, magnitude) = swar::decimal(b, digits);
    if end == digits {
        return Err(syntax(BadTimestamp));
    }
    if !matches!(b.get(end), None | Some(b'\n'))
        || !is_canonical_timestamp(b.get(ts_start..end).unwrap_or_default())
    {
        return Err(ViewErrorKind::NotCanonical);
    }
    if timestamp(digits > ts_start, magnitude).is_none() {
        return Err(syntax(TimeOutsideRange));
    }
    Ok(Split {
        measurement_end,
        key_end,
        fields_end,
        end,
        newlines,
    })
}

/// The timestamp whose digits read as `magnitude` (`None` when they overflow), negated
/// when `negative`; `None` outside `i64`.
#[inline]
pub(super) fn timestamp(negative: bool, magnitude: Option<u64>) -> Option<i64> {
    let m = magnitude?;
    if negative {
        0i64.checked_sub_unsigned(m)
    } else {
        i64::try_from(m).ok()
    }
}

/// Bytes that matter in a field set outside strings: `\`, `"`, space, LF (and `!`,
/// control bytes: false hits).
const FIELD_STOPS: Stops = Stops {
    below: b'#',
    any: b"\\",
};

/// The end of the field set that starts at `start`: the first space outside strings that
/// no backslash takes along (1.x's `scanFields`, on a line it has checked already). A
/// quote opens a string only where a value is expected: when more `=` than `,` came
/// before it outside strings (counted only at quotes, over the bytes since the last
/// count). Line feeds inside strings or escaped are counted in `newlines`.
#[inline(always)]
fn fields_end(b: &[u8], start: usize, newlines: &mut usize) -> Result<usize, ViewErrorKind> {
    let (mut equals, mut commas, mut counted) = (0usize, 0usize, start);
    let mut i = start;
    loop {
        i = stops::find(b, i, FIELD_STOPS, |_, c| {
            matches!(c, b'\\' | b'"' | b' ' | b'\n')
        });
        match b.get(i) {
            None | Some(b'\n') => return Err(ViewErrorKind::MissingTimestamp),
            Some(b' ') => return Ok(i),
            Some(b'\\') => {
                // The escaped byte is not a separator: count up to the backslash only.
                count_separators(b, counted, i, &mut equals, &mut commas);
                if b.get(i + 1) == Some(&b'\n') {
                    *newlines += 1;
                }
                i += 2;
                counted = i;
            }
            Some(_) => {
                // A quote.
                count_separators(b, counted, i, &mut equals, &mut commas);
                i += 1;
                counted = i;
                if equals > commas {
                    i = string_end(b, i, newlines)?;
                    counted = i;
                }
            }
        }
    }
}

/// Adds the `=` and `,` of `b[from..to]` (no backslash among them) to the counts.
#[inline]
fn count_separators(b: &[u8], from: usize, to: usize, equals: &mut usize, commas: &mut usize) {
    let part = b.get(from..to).unwrap_or_default();
    let mut words = part.chunks_exact(8);
    for w in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        let w = u64::from_le_bytes(bytes);
        *equals += swar::eq_exact(w, b'=').count_ones() as usize;
        *commas += swar::eq_exact(w, b',').count_ones() as usize;
    }
    for &c in words.remainder() {
        *equals += usize::from(c == b'=');
        *commas += usize::from(c == b',');
    }
}

/// Index past the closing quote of the string whose body starts at `i` (a backslash
/// takes the next byte along).
#[inline]
fn string_end(b: &[u8], mut i: usize, newlines: &mut usize) -> Result<usize, ViewErrorKind> {
    let body = i;
    loop {
        i = stops::string_stop(b, i);
        match b.get(i) {
            None => return Err(ViewErrorKind::Syntax(ErrorKind::UnbalancedQuotes)),
            Some(b'"') => break,
            Some(_) => i += 2,
        }
    }
    let text = b.get(body..i).unwrap_or_default();
    *newlines += text.iter().filter(|&&c| c == b'\n').count();
    Ok(i + 1)
}
