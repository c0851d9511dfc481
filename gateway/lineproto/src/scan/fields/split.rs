//! Splitting a field set into keys and values the way 1.x stores them (`walkFields`,
//! `scanTo`, `scanFieldValue` in `models/points.go`; the field iterator), which the view
//! shares: a key ends at the first `=` that is the first byte or not preceded by a
//! backslash; a value at the first `,` outside quotes, where a quote toggles and a
//! backslash escapes only `"` and `\\`.

use crate::scan::stops::{self, Stops};
use crate::view::escaped::{Context, unescaped};
use std::ops::Range;

/// Whether two field keys as written are the same key once unescaped.
pub(crate) fn field_key_eq(a: &[u8], b: &[u8]) -> bool {
    a == b || unescaped(a, Context::FieldKey).eq(unescaped(b, Context::FieldKey))
}

/// Splits a field set into keys and values as 1.x stores it (`walkFields`), calling
/// `each(key, value)` with their ranges in `fields` until it returns `false`; `Err(key)`
/// (the rest read as a key) when a key has no `=`, or nothing after it.
pub(crate) fn walk(
    fields: &[u8],
    mut each: impl FnMut(Range<usize>, Range<usize>) -> bool,
) -> Result<(), Range<usize>> {
    let mut at = 0;
    while at < fields.len() {
        let rest = fields.get(at..).unwrap_or_default();
        let eq = key_end(rest);
        if eq + 2 > rest.len() {
            return Err(at..at + eq.min(rest.len()));
        }
        let value = rest.get(eq + 1..).unwrap_or_default();
        let len = value_end(value).min(value.len());
        let value_at = at + eq + 1;
        if !each(at..at + eq, value_at..value_at + len) {
            break;
        }
        at = value_at + len + 1;
    }
    Ok(())
}

/// Index of the `=` that ends the key at the start of `s`: the first one that is the
/// first byte or not preceded by a backslash (`scanTo`), or `s.len()`.
#[inline]
pub(crate) fn key_end(s: &[u8]) -> usize {
    stops::find(
        s,
        0,
        Stops {
            below: 0,
            any: b"=",
        },
        |i, c| c == b'=' && (i == 0 || s.get(i - 1) != Some(&b'\\')),
    )
}

/// Length of the value at the start of `s`: up to the first `,` outside quotes, where a
/// quote toggles and a backslash escapes only `"` and `\` (`scanFieldValue`).
#[inline]
pub(crate) fn value_end(s: &[u8]) -> usize {
    let mut quoted = false;
    let mut i = 0;
    loop {
        i = stops::find(
            s,
            i,
            Stops {
                below: 0,
                any: b",\"\\",
            },
            |_, c| matches!(c, b',' | b'"' | b'\\'),
        );
        match s.get(i) {
            None => return s.len(),
            Some(b'\\') if matches!(s.get(i + 1), Some(b'"' | b'\\')) => i += 2,
            Some(b'"') => {
                quoted = !quoted;
                i += 1;
            }
            Some(b',') if !quoted => return i,
            Some(_) => i += 1,
        }
    }
}
