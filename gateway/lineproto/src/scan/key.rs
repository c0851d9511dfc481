//! Measurement and tags (`scanKey`, `scanMeasurement`, `scanTags`, `scanTagsKey`,
//! `scanTagsValue` in `models/points.go`, 1.x).
//!
//! A separator (`,`, a space, and `=` in tags) is escaped when the byte before it is a
//! backslash, however many backslashes precede it: the scan steps over a run of
//! backslashes and the byte after it. The first byte of the measurement, of a tag key and
//! of a tag value is only checked against a few separators: a tag value may start with
//! `=` (`m,t==a` is the value `=a`).

use super::Stop;
use super::dup::Duplicates;
use super::input::Input;
use super::stops::{self, Stops};
use crate::error::ErrorKind;

/// What the key scan found.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key {
    /// The space that ends the key.
    pub(super) end: usize,
    /// The end of the measurement (its `,` or the key's end).
    pub(super) measurement_end: usize,
    /// Whether a tag key is `time`, which the store refuses (`tsdb/shard.go`).
    pub(super) time_tag: bool,
}

/// Bytes that may end a run of name bytes: a backslash, `,`, `=` and bytes below
/// `!` (space, LF, CR; tabs and other control bytes are stepped over).
const STOPS: Stops = Stops {
    below: b'!',
    any: b",=\\",
};

/// What ends a part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// An unescaped `,`, `=` or space, at this index.
    Separator(usize, u8),
    /// The end of the line.
    Line,
}

/// The first `,`, `=` or space at or after `i` that no backslash escapes, or the end of
/// the line. A run of backslashes escapes the byte after it; a line feed so escaped is
/// counted in `newlines`. A space after an even run of backslashes, escaped for the parser
/// but not for 1.x's line splitter, means the fast scan cannot find the line's end:
/// `Retry`.
#[inline(always)]
fn separator(inp: &Input<'_>, mut i: usize, newlines: &mut usize) -> Result<End, Stop> {
    let b = inp.b;
    loop {
        i = stops::find(b, i, STOPS, |_, _| true);
        let Some(&c) = b.get(i) else {
            return Ok(End::Line);
        };
        match c {
            b',' | b'=' | b' ' => return Ok(End::Separator(i, c)),
            b'\\' => {
                let run_start = i;
                i += 1;
                while b.get(i) == Some(&b'\\') {
                    i += 1;
                }
                match b.get(i) {
                    Some(&c) if c < b' ' && inp.at_end(i) => return Ok(End::Line),
                    None => return Ok(End::Line),
                    Some(b' ') if !inp.is_exact() && (i - run_start).is_multiple_of(2) => {
                        return Err(Stop::Retry);
                    }
                    Some(b'\n') => *newlines += 1,
                    Some(_) => {}
                }
            }
            _ if inp.at_end(i) => return Ok(End::Line),
            _ => *newlines += usize::from(c == b'\n'),
        }
        i += 1;
    }
}

/// Scans measurement and tags from `start` (not whitespace) to the space that ends them.
#[inline(never)]
pub(super) fn scan(inp: &Input<'_>, start: usize, newlines: &mut usize) -> Result<Key, Stop> {
    let b = inp.b;
    if inp.at_end(start) || b.get(start) == Some(&b',') {
        return Err(ErrorKind::MissingMeasurement.into());
    }
    // scanMeasurement: up to an unescaped `,` or space (its first byte is taken as it is,
    // but for escaping the next).
    let mut i = start;
    let measurement_end = loop {
        match separator(inp, i, newlines)? {
            End::Separator(at, b',') if at > start => break at,
            End::Separator(at, b' ') if at > start => {
                return Ok(Key {
                    end: at,
                    measurement_end: at,
                    time_tag: false,
                });
            }
            End::Separator(at, _) => i = at + 1,
            End::Line => return Err(ErrorKind::MissingFields.into()),
        }
    };
    let mut duplicates = Duplicates::default();
    let mut time_tag = false;
    i = measurement_end;
    let end = loop {
        // scanTagsKey: a first byte that is not a separator, then up to an unescaped `=`.
        let key_start = i + 1;
        if inp.at_end(key_start) || matches!(b.get(key_start), Some(b' ' | b',' | b'=')) {
            return Err(ErrorKind::MissingTagKey.into());
        }
        let End::Separator(key_end, b'=') = separator(inp, key_start, newlines)? else {
            return Err(ErrorKind::MissingTagValue.into());
        };
        let key = b.get(key_start..key_end).unwrap_or_default();
        duplicates.push(key);
        time_tag |= key == b"time";
        // scanTagsValue: a first byte that is not `,` or a space (an `=` will do), then
        // up to an unescaped `,` or space; an unescaped `=` is an error.
        let value = key_end + 1;
        let first = match b.get(value) {
            _ if inp.at_end(value) => return Err(ErrorKind::MissingTagValue.into()),
            Some(b',' | b' ') => return Err(ErrorKind::MissingTagValue.into()),
            Some(b'=') => value + 1,
            _ => value,
        };
        match separator(inp, first, newlines)? {
            End::Separator(at, b',') => i = at,
            End::Separator(at, b' ') => break at,
            End::Separator(_, _) => return Err(ErrorKind::InvalidTagFormat.into()),
            End::Line => return Err(ErrorKind::MissingFields.into()),
        }
    };
    // Duplicates are looked for once every tag has scanned (scanKey).
    if duplicates.found(b, measurement_end + 1, end) {
        return Err(ErrorKind::DuplicateTags.into());
    }
    Ok(Key {
        end,
        measurement_end,
        time_tag,
    })
}
