//! Finding the sections of a canonical line, fast: the view trusts that a batch came
//! out of [`canonicalize`](crate::canonicalize()) (or a [`LineWriter`](crate::LineWriter))
//! and only checks the structure it relies on, so that reading stays in bounds and
//! meaningful: a measurement, an unescaped space before the fields, string values closed,
//! an unescaped space before a canonical nanosecond timestamp, and the line feed right
//! after it. Tags and field values are read leniently later (see [`Field::value`]).
//!
//! [`Field::value`]: super::Field::value

use super::error::ViewErrorKind;
use crate::error::ErrorKind;
use crate::scan::is_canonical_timestamp;
use crate::scan::swar::{self, eq, lt};

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

/// Whether the byte at `i` is escaped: an odd run of backslashes before it, after `from`.
#[inline]
fn escaped(b: &[u8], from: usize, i: usize) -> bool {
    let before = b.get(from..i).unwrap_or_default();
    before.last() == Some(&b'\\')
        && before.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
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
        Some(b'#' | b' ' | b'\t') => return Err(ViewErrorKind::NotCanonical),
        Some(b',') => return Err(syntax(MissingMeasurement)),
        _ => {}
    }
    // Measurement: up to the first unescaped comma or space; then the key, up to the
    // first unescaped space. A line feed before either ends the line too early.
    let unescaped = |i: usize, c: u8| match c {
        b',' | b' ' => !escaped(b, start, i),
        b'\n' => true,
        _ => false,
    };
    let measurement_end = swar::find(b, start, |w| lt(w, b'!') | eq(w, b','), unescaped);
    let key_end = match b.get(measurement_end) {
        Some(b' ') => measurement_end,
        Some(b',') => swar::find(
            b,
            measurement_end,
            |w| lt(w, b'!'),
            |i, c| c != b',' && unescaped(i, c),
        ),
        _ => return Err(syntax(MissingFields)),
    };
    if b.get(key_end) != Some(&b' ') {
        return Err(syntax(MissingFields));
    }
    // Fields: up to the first unescaped space outside a string value.
    let fields_start = key_end + 1;
    let mut newlines = 0;
    let mut i = fields_start;
    let fields_end = loop {
        // `lt(w, b'#')` marks quotes, spaces and line feeds (and `!`, control bytes).
        i = swar::find(
            b,
            i,
            |w| lt(w, b'#'),
            |i, c| match c {
                b'"' => opens_string(b, fields_start, i),
                b' ' => !escaped(b, fields_start, i),
                b'\n' => true,
                _ => false,
            },
        );
        match b.get(i) {
            Some(b' ') => break i,
            Some(b'"') => i = string_end(b, i + 1, &mut newlines)?,
            _ => return Err(ViewErrorKind::MissingTimestamp),
        }
    };
    if fields_end == fields_start {
        return Err(syntax(MissingFields));
    }
    // Timestamp: canonical digits up to the line feed.
    let ts_start = fields_end + 1;
    if TRUST {
        let end = swar::line_feed(b, ts_start);
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

/// Whether the quote at `i` opens a string value: it follows an unescaped `=`.
#[inline]
fn opens_string(b: &[u8], fields_start: usize, i: usize) -> bool {
    i > fields_start && b.get(i - 1) == Some(&b'=') && !escaped(b, fields_start, i - 1)
}

/// Index past the closing quote of the string whose body starts at `i`.
#[inline]
fn string_end(b: &[u8], mut i: usize, newlines: &mut usize) -> Result<usize, ViewErrorKind> {
    let body = i;
    i = swar::find(b, i, |w| eq(w, b'"'), |q, _| !escaped(b, body, q));
    if i >= b.len() {
        return Err(ViewErrorKind::Syntax(ErrorKind::UnbalancedQuotes));
    }
    let text = b.get(body..i).unwrap_or_default();
    *newlines += text.iter().filter(|&&c| c == b'\n').count();
    Ok(i + 1)
}
