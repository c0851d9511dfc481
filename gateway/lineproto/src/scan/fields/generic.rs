//! The field set scanned the way 1.x's `scanFields` scans it (`models/points.go`): one
//! loop over the bytes that matter, a backslash taking the next byte along, a quote
//! opening or closing a string only where a value is expected (more `=` than `,` so far
//! outside strings), a value checked at each `=` (number, boolean, or a string left to
//! the quote rule), the set ending at a space outside quotes, keys and values paired at
//! the end. Bytes after a string's closing quote stay in the value (`v="a"x` is valid).
//!
//! This is the exact scan, for field sets the fast one in the parent module does not take
//! (anything but `key=value` pairs with plain keys and whole values); it also gives 1.x's
//! error for a bad set.

use super::stored::{Seen, conflicts, walk_checks};
use super::{FieldSet, STOPS};
use crate::canonicalize::Options;
use crate::error::ErrorKind;
use crate::scan::conflict::Scratch;
use crate::scan::input::Input;
use crate::scan::value;
use crate::scan::{Stop, stops};

/// Scans the field set that starts at `start` the way `scanFields` does, byte by byte of
/// interest; `key_len` is the key's length, for the series key limit; `types` collects
/// the fields' keys and types for the conflict check.
#[cold]
pub(super) fn scan(
    inp: &Input<'_>,
    start: usize,
    key_len: usize,
    options: &Options,
    types: &mut Scratch,
    newlines: &mut usize,
) -> Result<FieldSet, Stop> {
    let b = inp.b;
    let mut i = start;
    let (mut quoted, mut equals, mut commas) = (false, 0usize, 0usize);
    let mut string_start = 0;
    let mut key_start = start;
    let mut seen = Seen::new(key_len);
    // Whether walkFields could split the set differently.
    let mut irregular = false;
    let mut empty_key = false;
    loop {
        if quoted {
            i = stops::string_stop(b, i).min(inp.limit());
            if inp.at_end_quoted(i) {
                break;
            }
            if b.get(i) == Some(&b'\\') {
                i += if inp.pairs(i) { 2 } else { 1 };
                continue;
            }
            quoted = false;
            let body = b.get(string_start..i).unwrap_or_default();
            *newlines += body.iter().filter(|&&c| c == b'\n').count();
            i += 1;
            continue;
        }
        // Every marked byte is looked at below; false hits (`!`, tabs, control bytes)
        // are stepped over there.
        i = stops::find(b, i, STOPS, |_, _| true);
        if inp.at_end(i) {
            break;
        }
        match b.get(i).copied().unwrap_or_default() {
            b'\\' => {
                irregular = true;
                if inp.pairs(i) {
                    if b.get(i + 1) == Some(&b'\n') {
                        *newlines += 1;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            b'"' => {
                if equals > commas {
                    quoted = true;
                    string_start = i + 1;
                }
                i += 1;
            }
            b'=' => {
                equals += 1;
                irregular |= equals > commas + 1;
                let before = (b.get(i - 1).copied(), b.get(i.wrapping_sub(2)).copied());
                if let (Some(b' ' | b','), Some(c)) = before
                    && c != b'\\'
                {
                    return Err(ErrorKind::MissingFieldKey.into());
                }
                empty_key |= i == start;
                if inp.at_end(i + 1) {
                    return Err(ErrorKind::MissingFieldValue.into());
                }
                let key = b.get(key_start..i).unwrap_or_default();
                match b.get(i + 1).copied().unwrap_or_default() {
                    b',' | b' ' => return Err(ErrorKind::MissingFieldValue.into()),
                    b'0'..=b'9' | b'.' | b'-' | b'N' | b'n' => {
                        let end = value::number(inp, i + 1, options.unsigned)?;
                        seen.field(key);
                        i = end;
                    }
                    b'"' => {
                        seen.field(key);
                        i += 1;
                    }
                    _ => {
                        i = value::boolean(inp, i + 1)?;
                        seen.field(key);
                    }
                }
            }
            b',' => {
                // A comma in a key (not after a value) splits differently for walkFields.
                irregular |= equals <= commas;
                commas += 1;
                key_start = i + 1;
                i += 1;
            }
            b' ' => break,
            b'\n' => {
                *newlines += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if quoted {
        return Err(ErrorKind::UnbalancedQuotes.into());
    }
    if equals == 0 || commas != equals - 1 {
        return Err(ErrorKind::InvalidFieldFormat.into());
    }
    let end = i;
    if irregular {
        seen = walk_checks(b, start, end, key_len)?;
    }
    if let Some(len) = seen.too_long {
        return Err(ErrorKind::MaxKeyLengthExceeded(len).into());
    }
    let fields = b.get(start..end).unwrap_or_default();
    let trailing = fields.iter().rev().take_while(|&&c| c == b'\\').count();
    Ok(FieldSet {
        start,
        end,
        only_time: seen.time == seen.total,
        conflict: seen.maybe_conflict && conflicts(b.get(start..end).unwrap_or_default(), types),
        unstorable: seen.unstorable,
        empty_key,
        trailing_backslash: trailing % 2 == 1,
        shape: super::super::shape::of(fields),
    })
}
