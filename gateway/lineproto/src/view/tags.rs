//! The tags of a point.

use super::escaped::{Context, Escaped};
use crate::scan::stops;
use std::ops::Range;

/// Whether `s[i]` is escaped in a key (measurement, tags): the byte before it is a
/// backslash, however many backslashes precede it (1.x's `scanTagsValue`, `scanTo`).
#[inline]
pub(super) fn escaped(s: &[u8], i: usize) -> bool {
    i > 0 && s.get(i - 1) == Some(&b'\\')
}

/// Whether a name needs no unescaping to be compared: raw bytes equal it exactly when
/// the unescaped text does.
#[inline]
pub(super) fn is_plain_name(s: &[u8]) -> bool {
    !s.iter()
        .any(|&c| matches!(c, b',' | b'=' | b' ' | b'"' | b'\\'))
}

/// Iterator over `(key, value)` of a point's tags, in the order written.
///
/// Walks the separators of the tag set a block of [`stops::SPAN`] bytes at a time,
/// keeping the current block's marks between tags.
#[derive(Debug, Clone)]
pub struct Tags<'a> {
    /// The tag set as written (`k=v,k2=v2`).
    raw: &'a [u8],
    /// Where the next tag starts.
    pos: usize,
    /// Start of the block whose marks are in `lanes`.
    base: usize,
    /// The `=` and `,` bytes of that block not looked at yet.
    lanes: stops::Marks,
}

/// The separators of a tag set: `=` and `,` (marked exactly, unlike [`stops::find`]'s
/// sets, so that a marked byte never has to be read again).
const SEPARATORS: &[u8] = b"=,";

impl<'a> Tags<'a> {
    pub(super) fn new(raw: &'a [u8]) -> Self {
        Self {
            raw,
            pos: 0,
            base: 0,
            lanes: stops::exact_marks(raw, 0, SEPARATORS).unwrap_or(0),
        }
    }

    /// The next unescaped `=` or `,` (or the end).
    #[inline(always)]
    fn next_separator(&mut self) -> usize {
        loop {
            while self.lanes != 0 {
                let p = self.base + stops::first_mark(self.lanes);
                self.lanes &= self.lanes - 1;
                // Every marked byte is a separator (bytes past the end read as 0xFF and
                // are never marked), so only its escape is left to check: no `match` on
                // the byte, which wasm compiles to a jump table that mispredicts.
                if p >= self.raw.len() {
                    return self.raw.len();
                }
                if !escaped(self.raw, p) {
                    return p;
                }
            }
            self.base += stops::SPAN;
            match stops::exact_marks(self.raw, self.base, SEPARATORS) {
                Some(m) => self.lanes = m,
                None => return self.raw.len(),
            }
        }
    }

    /// The next tag as offsets into the tag set: its start, the end of its key (its `=`)
    /// and its end (its `,` or the end of the set).
    #[inline(always)]
    pub(crate) fn next_span(&mut self) -> Option<(usize, usize, usize)> {
        let start = self.pos;
        if start >= self.raw.len() {
            return None;
        }
        let key_end = self.next_separator();
        let end = if self.raw.get(key_end) == Some(&b'=') {
            // A further `=` before the comma is not canonical; it stays in the value.
            loop {
                let p = self.next_separator();
                if self.raw.get(p) != Some(&b'=') {
                    break p;
                }
            }
        } else {
            key_end
        };
        self.pos = end + 1;
        Some((start, key_end, end))
    }

    /// The next tag and where it is in the tag set ([`Point::tags_raw`]): the range
    /// covers `key=value` as written, without the commas around it, so that a plugin can
    /// copy the tags it keeps in runs (the tag's comma is at `range.end`, or at
    /// `range.start - 1` when it is the last tag).
    ///
    /// ```
    /// let batch = b"m,a=1,node=x,b=2 v=1 5\n";
    /// let p = sluice_lineproto::points(batch).next().unwrap()?;
    /// let mut tags = p.tags();
    /// tags.next();
    /// let (key, value, range) = tags.next_with_range().unwrap();
    /// assert!(key == "node" && value == "x");
    /// assert_eq!(&p.tags_raw()[range], b"node=x");
    /// # Ok::<(), sluice_lineproto::ViewError>(())
    /// ```
    ///
    /// [`Point::tags_raw`]: super::Point::tags_raw
    #[inline]
    pub fn next_with_range(&mut self) -> Option<(Escaped<'a>, Escaped<'a>, Range<usize>)> {
        let (start, key_end, end) = self.next_span()?;
        let key = self.raw.get(start..key_end).unwrap_or_default();
        let value = self.raw.get(key_end + 1..end).unwrap_or_default();
        Some((
            Escaped::new(key, Context::Tag),
            Escaped::new(value, Context::Tag),
            start..end.min(self.raw.len()),
        ))
    }

    /// The first tag's value whose key's unescaped text is `key`.
    #[inline]
    pub(super) fn find_value(mut self, key: &[u8]) -> Option<Escaped<'a>> {
        let plain = is_plain_name(key);
        while let Some((start, key_end, end)) = self.next_span() {
            let name = self.raw.get(start..key_end).unwrap_or_default();
            let found = if plain {
                name == key
            } else {
                Escaped::new(name, Context::Tag).eq_bytes(key)
            };
            if found {
                let value = self.raw.get(key_end + 1..end).unwrap_or_default();
                return Some(Escaped::new(value, Context::Tag));
            }
        }
        None
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = (Escaped<'a>, Escaped<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_range().map(|(key, value, _)| (key, value))
    }
}

impl std::iter::FusedIterator for Tags<'_> {}
