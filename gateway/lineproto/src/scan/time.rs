//! The timestamp (`scanTime` and the end of `parsePoint` in `models/points.go`, 1.x):
//! after spaces, tabs or NULs, an optional `-` and digits, up to a space or the line's
//! end; then only spaces. No timestamp at all is fine (the receive time stands in).

use super::input::Input;
use super::{Stop, skip_blank, swar};
use crate::canonicalize::{MAX_TIMESTAMP, MIN_TIMESTAMP};
use crate::error::{ErrorKind, Quote};

/// What the timestamp scan found.
#[derive(Debug, Clone, Copy)]
pub(super) struct Time {
    /// Start of the timestamp text.
    pub(super) start: usize,
    /// End of the timestamp text (`start` when there is none).
    pub(super) end: usize,
    /// The timestamp in nanoseconds, if there is one.
    pub(super) nanos: Option<i64>,
    /// Where the line ends (as [`Input::at_end`] says).
    pub(super) line_end: usize,
}

/// Scans the timestamp after the field set that ends at `fields_end`; `unit` is its
/// unit in nanoseconds.
#[inline]
pub(super) fn scan(inp: &Input<'_>, fields_end: usize, unit: i64) -> Result<Time, Stop> {
    let b = inp.b;
    let start = skip_blank(b, fields_end);
    if inp.at_end(start) || b.get(start) == Some(&b'\n') {
        // No timestamp; 1.x does not look further (not even at what follows a line feed
        // inside the line).
        return Ok(Time {
            start,
            end: start,
            nanos: None,
            line_end: start,
        });
    }
    let negative = b.get(start) == Some(&b'-');
    let digits = start + usize::from(negative);
    let (end, magnitude) = swar::decimal(b, digits);
    if !(inp.at_end(end) || matches!(b.get(end), Some(b' ' | b'\n'))) {
        return Err(ErrorKind::BadTimestamp.into());
    }
    let text = b.get(start..end).unwrap_or_default();
    if end == digits {
        // A lone `-`: strconv.ParseInt's syntax error.
        return Err(ErrorKind::TimestampSyntax.into());
    }
    let value = magnitude.and_then(|m| {
        if negative {
            0i64.checked_sub_unsigned(m)
        } else {
            i64::try_from(m).ok()
        }
    });
    let value = value.ok_or_else(|| ErrorKind::TimestampOutOfRange(Quote::new(text)))?;
    let nanos = value
        .checked_mul(unit)
        .filter(|ns| (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(ns))
        .ok_or(ErrorKind::TimeOutsideRange)?;
    let mut i = end;
    while !inp.at_end(i) {
        if b.get(i) != Some(&b' ') {
            return Err(ErrorKind::InvalidPoint.into());
        }
        i += 1;
    }
    Ok(Time {
        start,
        end,
        nanos: Some(nanos),
        line_end: i,
    })
}
