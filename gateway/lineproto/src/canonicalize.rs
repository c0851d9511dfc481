//! The validating canonicaliser: one pass over a request body that checks every line
//! against InfluxDB 1.x's rules (see the scanner's documentation in `scan.rs`) and
//! appends each good point to `out` as canonical line protocol: `measurement[,tags]
//! fields timestamp\n`, one space between sections, the timestamp in nanoseconds (the
//! receive time, truncated to the precision, when the line had none). Measurement, tags
//! and fields are copied verbatim, escapes included, so 1.x reads the canonical line as it
//! reads the original: a line is accepted exactly when 1.x accepts it, but for CR line
//! ends (accepted) and the few lines whose canonical form 1.x would read differently
//! (refused; see [`ErrorKind`](crate::ErrorKind)'s last variants).
//!
//! Bad lines are counted and skipped, and the first one is reported; good lines are kept
//! (InfluxDB 1.x's partial writes). So is a point whose field has another type than the
//! same field of an earlier point of the request, which the store would drop (`schema`).
//! Blank lines, `#` comments, leading whitespace (spaces, tabs, NULs) and a CR before LF
//! are accepted and dropped. Nothing is allocated per line (but for pathological lines:
//! many tags out of order, many fields with escapes; and once per field the request
//! names).

mod schema;

use crate::decimal::Decimal;
use crate::error::{ErrorKind, LineError};
use crate::precision::Precision;
use crate::scan::{self, Sections};

/// InfluxDB's smallest timestamp, in nanoseconds.
pub const MIN_TIMESTAMP: i64 = i64::MIN + 2;
/// InfluxDB's largest timestamp, in nanoseconds.
pub const MAX_TIMESTAMP: i64 = i64::MAX - 1;

/// What the canonicaliser accepts beyond InfluxDB 1.x's defaults.
///
/// The default is what a stock influxd 1.x (1.6–1.8) accepts, so that every line the
/// gateway acknowledges is one 1.x stores.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Accept `u` unsigned integers (`v=5u`). A standard 1.x build refuses them with
    /// "invalid number" (`models/points.go` `scanNumber`: `enableUint64Support` is off);
    /// InfluxDB 2.x takes them. Turn this on only when every output is InfluxDB 2.x (or
    /// a 1.x built with unsigned support).
    pub unsigned: bool,
}

impl Options {
    /// InfluxDB 1.x's defaults: no unsigned integers.
    pub const fn v1() -> Self {
        Self { unsigned: false }
    }

    /// Accept `u` unsigned integers too (see [`Options::unsigned`]).
    pub const fn with_unsigned(mut self, unsigned: bool) -> Self {
        self.unsigned = unsigned;
        self
    }
}

/// What a call to [`canonicalize`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Points appended to the output.
    pub points: usize,
    /// Lines rejected, and points the store will drop one of: a field type conflict
    /// between two points of the request keeps both in the output (the store picks which
    /// one it drops) and counts one here.
    pub dropped: usize,
    /// The first rejected line and why.
    pub first_error: Option<LineError>,
}

/// Validates `input` and appends its points to `out` in canonical form, accepting what
/// a stock InfluxDB 1.x accepts ([`Options::v1`]; see [`canonicalize_with`]).
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
    canonicalize_with(input, precision, receive_time_ns, &Options::v1(), out)
}

/// [`canonicalize`] with [`Options`]: `u` integers are accepted with
/// `Options::v1().with_unsigned(true)`.
///
/// ```
/// use sluice_lineproto::{canonicalize, canonicalize_with, Options, Precision};
/// let mut out = Vec::new();
/// let s = canonicalize(b"m v=5u 1", Precision::Nanosecond, 0, &mut out);
/// assert_eq!(s.first_error.unwrap().to_string(), "unable to parse 'm v=5u 1': invalid number");
/// let v2 = Options::v1().with_unsigned(true);
/// let s = canonicalize_with(b"m v=5u 1", Precision::Nanosecond, 0, &v2, &mut out);
/// assert_eq!((s.points, out.as_slice()), (1, &b"m v=5u 1\n"[..]));
/// ```
pub fn canonicalize_with(
    input: &[u8],
    precision: Precision,
    receive_time_ns: i64,
    options: &Options,
    out: &mut Vec<u8>,
) -> Summary {
    let unit = precision.nanos();
    let default_ns = truncate(receive_time_ns, unit);
    let default_ts = Decimal::signed(default_ns);
    let mut summary = Summary::default();
    let mut scratch = scan::Scratch::default();
    let mut schema = schema::Schema::default();
    let mut pos = 0;
    let mut line = 1;
    out.reserve(input.len() + input.len() / 8);
    while pos < input.len() {
        let start = scan::skip_blank(input, pos);
        match input.get(start) {
            None => break,
            Some(b'#') => {
                // A comment ends where 1.x's line splitter ends it (a quote after an `=`
                // in it can take the next lines along).
                let end = scan::block_end(input, pos);
                line += 1 + count_lines(input.get(start..end));
                pos = end + 1;
                continue;
            }
            Some(_) if scan::at_line_end(input, start) => {
                pos = next_line(input, start);
                line += 1;
                continue;
            }
            Some(_) => {}
        }
        let point = scan::point(input, pos, start, unit, options, &mut scratch);
        let (kind, end) = match point {
            Ok(p) => {
                let timestamp = p.timestamp.unwrap_or(default_ns);
                if let Err(kind) = schema.check(input, start, &p, timestamp) {
                    // A field type conflict: the store drops one of the points, which
                    // one depends on the type it holds, so the point is kept and the
                    // conflict reported (see `schema`).
                    let before_lf = p
                        .next
                        .checked_sub(1)
                        .filter(|&i| input.get(i) == Some(&b'\n'));
                    let end = before_lf.unwrap_or(p.next).max(start);
                    report(&mut summary, line, kind, input.get(start..end));
                }
                write_point(input, start, &p, unit, &default_ts, out);
                summary.points += 1;
                line += 1 + p.newlines;
                pos = p.next;
                continue;
            }
            Err(kind) => (kind, scan::block_end(input, pos)),
        };
        let text = input.get(start..end).unwrap_or_default();
        report(&mut summary, line, kind, Some(text));
        line += 1 + count_lines(Some(text));
        pos = end + 1;
    }
    summary
}

/// Counts a line among the dropped and keeps it as the first error if it is.
fn report(summary: &mut Summary, line: usize, kind: ErrorKind, text: Option<&[u8]>) {
    let text = text.unwrap_or_default();
    summary.dropped += 1;
    if summary.first_error.is_none() {
        summary.first_error = Some(LineError {
            line,
            kind,
            text: crate::excerpt::Excerpt::new(text.strip_suffix(b"\r").unwrap_or(text)),
        });
    }
}

/// Line feeds in `text`.
fn count_lines(text: Option<&[u8]>) -> usize {
    text.unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// `t` rounded down to a multiple of `unit` (up when that would overflow).
fn truncate(t: i64, unit: i64) -> i64 {
    let rem = t.rem_euclid(unit);
    t.checked_sub(rem).unwrap_or(t + (unit - rem))
}

/// Index just past the line end at `from` (a blank line's LF, CR LF or CR).
fn next_line(input: &[u8], from: usize) -> usize {
    (scan::line_feed(input, from) + 1).min(input.len())
}

/// Appends the canonical form of the scanned point `p` (which starts at `start`).
#[inline]
fn write_point(
    input: &[u8],
    start: usize,
    p: &Sections,
    unit: i64,
    default_ts: &Decimal,
    out: &mut Vec<u8>,
) {
    let section = |from: usize, to: usize| input.get(from..to).unwrap_or_default();
    let formatted;
    let ts: &[u8] = match p.timestamp {
        None => default_ts.as_bytes(),
        Some(ns) => {
            let text = section(p.ts_start, p.ts_end);
            if unit == 1 && scan::is_canonical_timestamp(text) {
                if p.fields_start == p.key_end + 1 && p.ts_start == p.fields_end + 1 {
                    // Already canonical: one copy.
                    out.extend_from_slice(section(start, p.ts_end));
                    out.push(b'\n');
                    return;
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
}

#[cfg(test)]
mod tests;
