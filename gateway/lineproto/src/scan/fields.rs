//! The field set (`scanFields` and `walkFields` in `models/points.go`, 1.x), and what
//! the store checks of it (`tsdb/shard.go`, the engine's field types).
//!
//! 1.x checks the set one way (`scanFields`: [`generic`]) and splits it into fields
//! another way to store it (`walkFields`: [`split`]). The two agree on `key=value` pairs
//! whose keys hold no backslash, quote or comma and whose values are whole (a number, a
//! boolean, a string closed right before the next `,` or the end), which is what lines
//! look like; the fast scan here takes exactly those, and hands anything else to the exact
//! scan, which also splits the set the second way when they may disagree and gives 1.x's
//! error for a bad set.

mod generic;
mod split;
mod stored;

pub(crate) use split::{key_end, value_end, walk};
pub(crate) use stored::conflicts;

use super::conflict::Scratch;
use super::input::Input;
use super::stops::{self, Stops};
use super::value;
use super::{Stop, skip_blank};
use crate::canonicalize::Options;
use crate::error::ErrorKind;
use stored::Seen;

/// What the field scan found.
#[derive(Debug, Clone, Copy)]
pub(super) struct FieldSet {
    /// Start of the field set.
    pub(super) start: usize,
    /// End of the field set (a space or the line's end).
    pub(super) end: usize,
    /// Every field is named `time` (the store drops the point).
    pub(super) only_time: bool,
    /// Two fields with the same key have values of different types.
    pub(super) conflict: bool,
    /// A value 1.x's engine cannot store (or crashes on).
    pub(super) unstorable: Option<stored::Unstorable>,
    /// The set starts with `=` after a tab or NUL (an empty key for 1.x).
    pub(super) empty_key: bool,
    /// The set ends with a backslash that escapes nothing.
    pub(super) trailing_backslash: bool,
    /// Its keys and their values' types ([`super::shape`]).
    pub(super) shape: u64,
}

/// Bytes that matter in a field set outside strings: `\`, `"`, `=`, `,` and bytes below
/// `#` (space, LF, CR; and `!`, tabs, control bytes, which the scans step over).
pub(super) const STOPS: Stops = Stops {
    below: b'#',
    any: b",=\\",
};

/// Scans the field set after the key that ends at `key_end` (its space); `key_len` is
/// the key's length, for the series key limit; `types` collects the fields' keys and
/// types for the conflict check.
#[inline(never)]
pub(super) fn scan(
    inp: &Input<'_>,
    key_end: usize,
    key_len: usize,
    options: &Options,
    types: &mut Scratch,
    newlines: &mut usize,
) -> Result<FieldSet, Stop> {
    let start = skip_blank(inp.b, key_end);
    match pairs(inp, start, key_len, options, types)? {
        Some((set, lines)) => {
            *newlines += lines;
            Ok(set)
        }
        None => generic::scan(inp, start, key_len, options, types, newlines),
    }
}

/// The fast scan: `key=value` pairs with plain keys and whole values, ending at a space
/// or the line's end. `Ok(None)` for anything else (the exact scan takes over); an error
/// of a value checker is 1.x's error for the line (the exact scan would reach the same
/// value the same way). With the set, the line feeds inside its strings.
#[inline(always)]
fn pairs(
    inp: &Input<'_>,
    start: usize,
    key_len: usize,
    options: &Options,
    types: &mut Scratch,
) -> Result<Option<(FieldSet, usize)>, Stop> {
    let b = inp.b;
    let mut seen = Seen::new(key_len);
    let mut lines = 0;
    let mut shape = super::shape::EMPTY;
    let mut i = start;
    loop {
        let key_start = i;
        i = stops::find(b, i, STOPS, |_, _| true);
        if i == key_start || b.get(i) != Some(&b'=') {
            return Ok(None);
        }
        let key = b.get(key_start..i).unwrap_or_default();
        let value = i + 1;
        let ty = match b.get(value).copied() {
            Some(b'"') => {
                let Some(end) = string_end(inp, value + 1) else {
                    return Ok(None);
                };
                let body = b.get(value + 1..end).unwrap_or_default();
                lines += body.iter().filter(|&&c| c == b'\n').count();
                i = end + 1;
                value::FieldType::String
            }
            Some(b'0'..=b'9' | b'.' | b'-' | b'N' | b'n') => {
                i = value::number(inp, value, options.unsigned)?;
                match b.get(i.wrapping_sub(1)) {
                    Some(b'i') => value::FieldType::Integer,
                    Some(b'u') => value::FieldType::Unsigned,
                    _ => value::FieldType::Float,
                }
            }
            Some(c) if c > b' ' && c != b',' => {
                i = value::boolean(inp, value)?;
                value::FieldType::Boolean
            }
            _ => return Ok(None),
        };
        shape = super::shape::push(shape, key, ty);
        seen.field(key);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b' ') => break,
            _ if inp.at_end(i) => break,
            _ => return Ok(None),
        }
    }
    if let Some(len) = seen.too_long {
        return Err(ErrorKind::MaxKeyLengthExceeded(len).into());
    }
    let set = FieldSet {
        start,
        end: i,
        only_time: seen.time == seen.total,
        conflict: seen.maybe_conflict && conflicts(b.get(start..i).unwrap_or_default(), types),
        unstorable: None,
        empty_key: false,
        trailing_backslash: false,
        shape,
    };
    Ok(Some((set, lines)))
}

/// Index of the closing quote of the string whose body starts at `i` (a backslash takes
/// the next byte along), if it closes.
#[inline(always)]
fn string_end(inp: &Input<'_>, mut i: usize) -> Option<usize> {
    let b = inp.b;
    loop {
        i = stops::string_stop(b, i).min(inp.limit());
        if inp.at_end_quoted(i) {
            return None;
        }
        match b.get(i) {
            Some(b'\\') if inp.pairs(i) => i += 2,
            Some(b'"') => return Some(i),
            _ => return None,
        }
    }
}
