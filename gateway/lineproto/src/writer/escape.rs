//! Escaping plain text for its place in a line, so that InfluxDB 1.x reads it back as
//! written (`models/points.go`, `pkg/escape`).
//!
//! 1.x drops a backslash before the bytes a place escapes and keeps every other
//! backslash (`\\` too), so escaping is putting a backslash before each such byte and
//! leaving backslashes alone: `a\,b` plain becomes `a\\,b`, which 1.x reads back as
//! `a\,b`. Some text has no such spelling: a name that ends with a backslash (it would
//! escape the separator after it), a line feed, and in a field key a separator after an
//! odd run of backslashes (1.x's two splits of the field set would disagree on it).

use super::WriteErrorKind;

/// Which bytes a place escapes, and what else it refuses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    /// Bytes preceded by a backslash.
    escaped: &'static [u8],
    /// Whether an odd run of backslashes may precede an escaped byte.
    odd_runs: bool,
}

/// A measurement: `,`, space, `"`, `=` (1.x unescapes all four in a measurement).
pub(super) const MEASUREMENT: Place = Place {
    escaped: b", \"=",
    odd_runs: true,
};
/// A tag key or value: `,`, space, `=`.
pub(super) const TAG: Place = Place {
    escaped: b", =",
    odd_runs: true,
};
/// A field key: `,`, space, `"`, `=`.
pub(super) const FIELD_KEY: Place = Place {
    escaped: b", \"=",
    odd_runs: false,
};

impl Place {
    /// Whether `c` is escaped here.
    #[inline(always)]
    fn escapes(&self, c: u8) -> bool {
        self.escaped.contains(&c)
    }
}

/// Appends `s` escaped for `place`; `Err` (with part of `s` appended) if it cannot be
/// written. `Ok(true)` when the output has a space after an even run of backslashes (a
/// plain backslash before a space): escaped for 1.x's parser but not for its line
/// splitter, which then counts quotes from there (see [`has_split_space`]).
#[inline]
pub(super) fn name(out: &mut Vec<u8>, s: &[u8], place: &Place) -> Result<bool, WriteErrorKind> {
    if !s
        .iter()
        .any(|&c| c == b'\\' || c == b'\n' || place.escapes(c))
    {
        out.extend_from_slice(s);
        return Ok(false);
    }
    let mut run = 0usize;
    let mut split = false;
    for &c in s {
        if c == b'\n' {
            return Err(WriteErrorKind::NewlineInName);
        }
        if place.escapes(c) {
            if run % 2 == 1 && !place.odd_runs {
                return Err(WriteErrorKind::BackslashBeforeSeparator);
            }
            split |= c == b' ' && run % 2 == 1;
            out.push(b'\\');
        }
        out.push(c);
        run = if c == b'\\' { run + 1 } else { 0 };
    }
    if run > 0 {
        return Err(WriteErrorKind::TrailingBackslash);
    }
    Ok(split)
}

/// Whether escaped text `raw` has a space after an even run of backslashes: 1.x's parser
/// reads it as escaped (the byte before it is a backslash), its line splitter as a space
/// (the backslashes pair up), after which the splitter counts quotes in the key.
#[inline]
pub(super) fn has_split_space(raw: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = raw
        .get(from..)
        .and_then(|r| r.iter().position(|&c| c == b' '))
    {
        let i = from + p;
        if i >= 2 && raw.get(i - 1) == Some(&b'\\') && !crate::scan::odd_backslashes_before(raw, i)
        {
            return true;
        }
        from = i + 1;
    }
    false
}

/// Appends the inside of a string field value: `"` and `\` escaped, the rest as it is.
#[inline]
pub(super) fn string(out: &mut Vec<u8>, s: &[u8]) {
    if !s.iter().any(|&c| c == b'"' || c == b'\\') {
        out.extend_from_slice(s);
        return;
    }
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}
