//! The validating line scanner of [`canonicalize`](crate::canonicalize()): InfluxDB 1.x's
//! line parser (`models/points.go` of influxdb 1.6–1.8: `scanLine`, `parsePoint`,
//! `scanKey`, `scanFields`, `walkFields`, `scanTime`), ported rule for rule, plus the
//! checks its storage layer makes before it keeps a point (`tsdb/shard.go`, the engine's
//! field types). No allocation (but for pathological lines) and no panic, whatever the
//! input. The [view](crate::view) shares its helpers.
//!
//! # Escapes, as 1.x has them
//!
//! 1.x has no single escape grammar; each part of a line has its own rule, and Sluice
//! keeps every one, since the canonical line it forwards must read the same:
//!
//! - Measurement, tag keys and tag values (`scanMeasurement`, `scanTagsKey`,
//!   `scanTagsValue`): a separator (`,`, space, and `=` in tags) is escaped when the byte
//!   before it is a backslash, however many backslashes precede it (`m,t=a\\ b` is the
//!   value `a\\ b`; `m,t=a\\ v=1` has no fields).
//! - Field set (`scanFields`): a backslash takes the next byte along, whatever it is, in
//!   keys, values and strings alike; a quote opens a string only in a value.
//! - Splitting fields into keys and values (`walkFields`, which 1.x uses to store them):
//!   a key ends at the first `=` not preceded by a backslash; a value at the first comma
//!   outside quotes, where only `\"` and `\\` are escapes.
//! - Lines (`scanLine`): a backslash takes the next byte along (a line feed too, unless it
//!   is the last byte of the body), and a line feed inside a quoted value does not end
//!   the line; quotes count only after the first space (which may be inside the key).
//!
//! # Fast and exact scans
//!
//! A line is scanned once, finding its end as it goes ([`Input::fast`]); this agrees
//! with `scanLine` unless the line starts with spaces or its key holds a space after an
//! even run of backslashes (then `scanLine` counts quotes in the key). Those lines, and
//! any line that fails, are scanned again the way 1.x does it: line end first
//! ([`line::block_end`]), then the point within it ([`Input::exact`]), which also gives
//! 1.x's exact error.
//!
//! # Deliberate differences
//!
//! - A CR before the line feed (or at the end of the body) ends the line; 1.x keeps it in
//!   the line (and mostly rejects it as a bad timestamp or number).
//! - Three kinds of lines 1.x accepts are refused, because their canonical form would
//!   not read back the same: [`EmptyFieldKey`](ErrorKind::EmptyFieldKey),
//!   [`TrailingBackslash`](ErrorKind::TrailingBackslash) and
//!   [`LineSplit`](ErrorKind::LineSplit).
//! - Two kinds of lines 1.x's parser accepts but its store fails on are refused:
//!   [`LoneQuote`](ErrorKind::LoneQuote) (influxd crashes) and
//!   [`UnstorableValue`](ErrorKind::UnstorableValue) (a 500 for the whole request).

pub(crate) mod conflict;
pub(crate) mod dup;
pub(crate) mod fields;
mod input;
mod key;
pub(crate) mod line;
pub(crate) mod shape;
#[cfg(sluice_simd)]
mod simd;
pub(crate) mod stops;
pub(crate) mod swar;
mod time;
pub(crate) mod value;

pub(crate) use conflict::Scratch;
pub(crate) use input::Input;
pub(crate) use line::block_end;
pub(crate) use stops::line_feed;
pub(crate) use value::{FieldType, check_value};

use crate::canonicalize::Options;
use crate::error::ErrorKind;

/// InfluxDB's limit on a series key: measurement, tags, `#!~#` and one field key
/// (`MaxKeyLength`).
pub(crate) const MAX_KEY_LEN: usize = 65_535;
/// Bytes InfluxDB adds between the key and a field key when it checks [`MAX_KEY_LEN`]
/// (`seriesKeySize`).
const FIELD_KEY_SEPARATOR_LEN: usize = 4;

/// Why a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The line is bad.
    Bad(ErrorKind),
    /// The fast scan cannot tell where the line ends; scan it exactly.
    Retry,
}

impl From<ErrorKind> for Stop {
    fn from(kind: ErrorKind) -> Self {
        Self::Bad(kind)
    }
}

/// Index of the first byte at or after `i` that is not whitespace as 1.x skips it: a
/// space, a tab or a NUL (`skipWhitespace`).
#[inline]
pub(crate) fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | 0) = b.get(i) {
        i += 1;
    }
    i
}

/// Whether a blank line ends at `i`: the end of input, LF, or CR before LF (or before the
/// end).
#[inline]
pub(crate) fn at_line_end(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None | Some(b'\n') => true,
        Some(b'\r') => matches!(b.get(i + 1), None | Some(b'\n')),
        Some(_) => false,
    }
}

/// Whether the backslashes just before `i` are an odd run.
#[inline]
pub(crate) fn odd_backslashes_before(b: &[u8], i: usize) -> bool {
    let before = b.get(..i).unwrap_or_default();
    before.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Where one point's sections are, as offsets into the scanned input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections {
    /// End of the measurement.
    pub(crate) measurement_end: usize,
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
    /// The timestamp in nanoseconds, when the line has one.
    pub(crate) timestamp: Option<i64>,
    /// Start of the next line.
    pub(crate) next: usize,
    /// Line feeds inside the point (in string values, or escaped): lines of the body it
    /// spans beyond its first.
    pub(crate) newlines: usize,
    /// Its field keys and their values' types ([`shape`]).
    pub(crate) shape: u64,
}

/// Scans the point of the line that starts at `line_start`, whose first byte that is not
/// whitespace is at `start`; `unit` is the timestamps' unit in nanoseconds.
#[inline]
pub(crate) fn point(
    b: &[u8],
    line_start: usize,
    start: usize,
    unit: i64,
    options: &Options,
    scratch: &mut Scratch,
) -> Result<Sections, ErrorKind> {
    let leading = b.get(line_start..start).unwrap_or_default();
    if (leading.is_empty() || !leading.contains(&b' '))
        && let Ok(s) = parse(Input::fast(b), start, unit, options, scratch)
    {
        return Ok(s);
    }
    exact(b, line_start, start, unit, options, scratch)
}

/// Scans a line the way 1.x does: its end first, then the point in it.
#[cold]
fn exact(
    b: &[u8],
    line_start: usize,
    start: usize,
    unit: i64,
    options: &Options,
    scratch: &mut Scratch,
) -> Result<Sections, ErrorKind> {
    let block = block_end(b, line_start);
    let mut end = block;
    // A line whose last byte is a line feed (escaped, or quoted up to the end of the
    // body) loses it (`ParsePointsWithPrecision`), and then its CR (Sluice's leniency).
    if end > start && b.get(end - 1) == Some(&b'\n') {
        end -= 1;
    }
    if end > start && b.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    let mut s = match parse(Input::exact(b, end), start, unit, options, scratch) {
        Ok(s) => s,
        Err(Stop::Bad(kind)) => return Err(kind),
        Err(Stop::Retry) => return Err(ErrorKind::MissingFields),
    };
    s.next = (block + 1).min(b.len());
    let text = b.get(start..block).unwrap_or_default();
    s.newlines = text.iter().filter(|&&c| c == b'\n').count();
    // 1.x's line splitter must end the canonical line at its end: not at a line feed
    // inside it, not inside quotes (which would take the next line of a forwarded batch
    // along).
    let mut line = line::LineScan::default();
    for part in [
        b.get(start..s.key_end).unwrap_or_default(),
        b" ",
        b.get(s.fields_start..s.fields_end).unwrap_or_default(),
    ] {
        line.feed(part);
    }
    if !line.ends_cleanly() {
        return Err(ErrorKind::LineSplit);
    }
    Ok(s)
}

/// `parsePoint` and the store's checks, on the line at `start`.
#[inline]
fn parse(
    inp: Input<'_>,
    start: usize,
    unit: i64,
    options: &Options,
    scratch: &mut Scratch,
) -> Result<Sections, Stop> {
    let mut newlines = 0;
    let key = key::scan(&inp, start, &mut newlines)?;
    let key_len = key.end - start;
    if key_len > MAX_KEY_LEN {
        return Err(ErrorKind::MaxKeyLengthExceeded(key_len).into());
    }
    let fields = fields::scan(&inp, key.end, key_len, options, scratch, &mut newlines)?;
    let ts = time::scan(&inp, fields.end, unit)?;
    if !inp.is_exact() && b_before(inp.b, ts.line_end) == Some(b'\n') {
        // The line ends right after an escaped line feed, which 1.x drops from the line:
        // what came before it reads differently then.
        return Err(Stop::Retry);
    }
    // What the store refuses (tsdb/shard.go validateSeriesAndFields, then the engine).
    let measurement = || measurement_quote(inp.b, start, key.measurement_end);
    if key.time_tag {
        return Err(ErrorKind::InvalidTagKeyTime(measurement()).into());
    }
    if fields.only_time {
        return Err(ErrorKind::InvalidFieldNameTime(measurement()).into());
    }
    if let Some(value) = fields.unstorable {
        return Err(value.kind(inp.b).into());
    }
    if fields.conflict {
        return Err(ErrorKind::FieldTypeConflict.into());
    }
    // What Sluice refuses although 1.x takes it.
    if fields.empty_key {
        return Err(ErrorKind::EmptyFieldKey.into());
    }
    if fields.trailing_backslash {
        return Err(ErrorKind::TrailingBackslash.into());
    }
    Ok(Sections {
        measurement_end: key.measurement_end,
        key_end: key.end,
        fields_start: fields.start,
        fields_end: fields.end,
        ts_start: ts.start,
        ts_end: ts.end,
        timestamp: ts.nanos,
        next: inp.past_end(ts.line_end),
        newlines,
        shape: fields.shape,
    })
}

/// The byte before `i`.
#[inline(always)]
fn b_before(b: &[u8], i: usize) -> Option<u8> {
    b.get(i.wrapping_sub(1)).copied()
}

/// The measurement at `start..end` unescaped as 1.x names it (`point.Name`), quoted.
#[cold]
fn measurement_quote(b: &[u8], start: usize, end: usize) -> crate::error::Quote {
    let raw = b.get(start..end).unwrap_or_default();
    crate::error::Quote::collect(crate::view::escaped::unescaped(
        raw,
        crate::view::escaped::Context::Measurement,
    ))
}

/// Whether a timestamp's text is how [`crate::decimal`] writes its value (no leading
/// zeros, no `-0`), so that it can be copied instead of formatted.
pub(crate) fn is_canonical_timestamp(text: &[u8]) -> bool {
    !matches!(text, [b'0', _, ..] | [b'-', b'0', ..])
}

#[cfg(test)]
mod tests;
