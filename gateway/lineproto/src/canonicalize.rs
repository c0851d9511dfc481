//! The validating canonicaliser: one pass over a request body that checks every line
//! against InfluxDB 1.x's rules and appends each good point to `out` as canonical line
//! protocol: `measurement[,tags] fields timestamp\n`, one space between sections, the
//! timestamp in nanoseconds (the receive time, truncated to the precision, when the line
//! had none). Measurement, tags and fields are copied verbatim, escapes included.
//!
//! Bad lines are counted and skipped, and the first one is reported; good lines are kept
//! (InfluxDB 1.x's partial writes). Blank lines, `#` comments, leading whitespace and a CR
//! before LF are accepted and dropped. Nothing is allocated per line.

use crate::decimal::Decimal;
use crate::error::{ErrorKind, LineError};
use crate::precision::Precision;
use crate::scan::{self, Sections};

/// InfluxDB's smallest timestamp, in nanoseconds.
pub const MIN_TIMESTAMP: i64 = i64::MIN + 2;
/// InfluxDB's largest timestamp, in nanoseconds.
pub const MAX_TIMESTAMP: i64 = i64::MAX - 1;

/// What a call to [`canonicalize`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Points appended to the output.
    pub points: usize,
    /// Lines rejected.
    pub dropped: usize,
    /// The first rejected line and why.
    pub first_error: Option<LineError>,
}

/// Validates `input` and appends its points to `out` in canonical form.
///
/// `precision` is the unit of the timestamps in `input`; `receive_time_ns` stands in for
/// a missing timestamp, truncated down to a multiple of `precision` as InfluxDB does.
///
/// ```
/// use sluice_lineproto::{canonicalize, Precision};
/// let mut out = Vec::new();
/// let s = canonicalize(b"cpu,host=a  v=1 17\r\n# note\nbad\n", Precision::Second, 0, &mut out);
/// assert_eq!(out, b"cpu,host=a v=1 17000000000\n");
/// assert_eq!((s.points, s.dropped), (1, 1));
/// assert_eq!(s.first_error.unwrap().to_string(), "unable to parse 'bad': missing fields");
/// ```
pub fn canonicalize(
    input: &[u8],
    precision: Precision,
    receive_time_ns: i64,
    out: &mut Vec<u8>,
) -> Summary {
    let unit = precision.nanos();
    let default_ts = Decimal::signed(truncate(receive_time_ns, unit));
    let mut summary = Summary::default();
    let mut pos = 0;
    let mut line = 1;
    out.reserve(input.len() + input.len() / 8);
    while pos < input.len() {
        let start = scan::skip_blank(input, pos);
        match input.get(start) {
            None => break,
            Some(b'#') => {
                pos = next_line(input, start);
                line += 1;
                continue;
            }
            Some(_) if scan::at_line_end(input, start) => {
                pos = next_line(input, start);
                line += 1;
                continue;
            }
            Some(_) => {}
        }
        let written = scan::point(input, start)
            .and_then(|p| write_point(input, start, &p, unit, &default_ts, out).map(|()| p));
        match written {
            Ok(p) => {
                summary.points += 1;
                line += 1 + p.newlines;
                pos = p.next;
            }
            Err(kind) => {
                let end = scan::rejected_line_end(input, pos);
                let text = input.get(start..end).unwrap_or_default();
                summary.dropped += 1;
                if summary.first_error.is_none() {
                    summary.first_error = Some(LineError {
                        line,
                        kind,
                        text: crate::excerpt::Excerpt::new(text.trim_ascii_end()),
                    });
                }
                line += 1 + text.iter().filter(|&&b| b == b'\n').count();
                pos = end + 1;
            }
        }
    }
    summary
}

/// `t` rounded down to a multiple of `unit` (up when that would overflow).
fn truncate(t: i64, unit: i64) -> i64 {
    let rem = t.rem_euclid(unit);
    t.checked_sub(rem).unwrap_or(t + (unit - rem))
}

/// Index just past the next line feed at or after `from` (or the end).
fn next_line(input: &[u8], from: usize) -> usize {
    (scan::line_feed(input, from) + 1).min(input.len())
}

/// Appends the canonical form of the scanned point `p` (which starts at `start`), or
/// says why its timestamp is out of range (then nothing is appended).
#[inline]
fn write_point(
    input: &[u8],
    start: usize,
    p: &Sections,
    unit: i64,
    default_ts: &Decimal,
    out: &mut Vec<u8>,
) -> Result<(), ErrorKind> {
    let section = |from: usize, to: usize| input.get(from..to).unwrap_or_default();
    let formatted;
    let ts: &[u8] = match p.timestamp {
        None => default_ts.as_bytes(),
        Some(t) => {
            let ns = t
                .checked_mul(unit)
                .filter(|ns| (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(ns))
                .ok_or(ErrorKind::TimeOutsideRange)?;
            let text = section(p.ts_start, p.ts_end);
            if unit == 1 && scan::is_canonical_timestamp(text) {
                if p.fields_start == p.key_end + 1 && p.ts_start == p.fields_end + 1 {
                    // Already canonical: one copy.
                    out.extend_from_slice(section(start, p.ts_end));
                    out.push(b'\n');
                    return Ok(());
                }
                text
            } else {
                formatted = Decimal::signed(ns);
                formatted.as_bytes()
            }
        }
    };
    out.extend_from_slice(section(start, p.key_end));
    out.push(b' ');
    out.extend_from_slice(section(p.fields_start, p.fields_end));
    out.push(b' ');
    out.extend_from_slice(ts);
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests;
