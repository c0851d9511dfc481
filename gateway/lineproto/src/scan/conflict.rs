//! Field type conflicts: two fields of one point with the same key (as 1.x stores it,
//! unescaped) and values of different types. 1.x's engine refuses them with the whole
//! request ("field type conflict": `tsdb/engine/tsm1` `WritePoints` gives each series and
//! field one type).
//!
//! Keys are collected as the scan goes ([`Keys`]): the first few on the stack, the rest
//! in a [`Scratch`] that lives as long as the request (no allocation per line once it
//! has grown). Nothing is compared unless two keys have the same length; then a few are
//! compared pairwise and more are sorted so that equal keys meet.

use super::value::FieldType;
use crate::view::escaped::{Context, unescaped};

/// Fields kept on the stack, compared pairwise; more go to the [`Scratch`] and are
/// sorted.
const INLINE: usize = 8;

/// A field's key, where it is in the input, and its value's type.
#[derive(Debug, Clone, Copy)]
struct Typed {
    /// Start of the key.
    start: usize,
    /// Length of the key.
    len: usize,
    /// Its value's type.
    ty: FieldType,
}

/// The keys and types of a point's fields, collected as the scan goes (`time` fields
/// left out: the store skips them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    /// The first fields.
    inline: [Typed; INLINE],
    /// Fields collected.
    count: usize,
    /// Key lengths (modulo 64) seen, one bit each.
    lengths: u64,
    /// Whether two keys have the same length (modulo 64): only then can keys be equal.
    same_length: bool,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            inline: [Typed {
                start: 0,
                len: 0,
                ty: FieldType::Float,
            }; INLINE],
            count: 0,
            lengths: 0,
            same_length: false,
        }
    }
}

impl Keys {
    /// A field whose key is at `start..start + len` of the input, of type `ty`; past the
    /// first few, fields go to `scratch`.
    #[inline(always)]
    pub(crate) fn push(&mut self, start: usize, len: usize, ty: FieldType, scratch: &mut Scratch) {
        let bit = 1u64 << (len % 64);
        self.same_length |= self.lengths & bit != 0;
        self.lengths |= bit;
        let typed = Typed { start, len, ty };
        match self.inline.get_mut(self.count) {
            Some(slot) => *slot = typed,
            None => self.spill(typed, scratch),
        }
        self.count += 1;
    }

    /// A field past the inline ones: the first time, the inline ones go to `scratch` too.
    #[cold]
    fn spill(&mut self, typed: Typed, scratch: &mut Scratch) {
        if self.count == INLINE {
            scratch.fields.clear();
            scratch.fields.extend_from_slice(&self.inline);
        }
        scratch.fields.push(typed);
    }

    /// Whether two of the fields (keys in `b`) have the same key and different types;
    /// `escaped`: the keys may hold escapes, so they are compared unescaped (and may be
    /// equal at different lengths).
    #[inline]
    pub(crate) fn conflict(&self, b: &[u8], escaped: bool, scratch: &mut Scratch) -> bool {
        if self.count < 2 || (!escaped && !self.same_length) {
            return false;
        }
        if self.count > INLINE {
            return scratch.sorted_conflict(b, escaped);
        }
        let fields = self.inline.get(..self.count).unwrap_or_default();
        fields.iter().enumerate().any(|(n, x)| {
            fields
                .iter()
                .take(n)
                .any(|y| x.ty != y.ty && same(b, x, y, escaped))
        })
    }
}

/// Room for the fields of a point past the first few, reused from line to line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// The point's fields, when there are more than fit on the stack.
    fields: Vec<Typed>,
}

impl Scratch {
    /// Whether two of the fields collected here conflict: sorted by key, so that equal
    /// keys meet.
    #[cold]
    fn sorted_conflict(&mut self, b: &[u8], escaped: bool) -> bool {
        let field_key = |t: &Typed| unescaped(key(b, t), Context::FieldKey);
        if escaped {
            self.fields
                .sort_unstable_by(|x, y| field_key(x).cmp(field_key(y)));
        } else {
            self.fields
                .sort_unstable_by(|x, y| key(b, x).cmp(key(b, y)));
        }
        self.fields
            .windows(2)
            .any(|w| matches!(w, [x, y] if x.ty != y.ty && same(b, x, y, escaped)))
    }
}

/// Whether two fields have the same key (unescaped, if `escaped`).
#[inline(always)]
fn same(b: &[u8], x: &Typed, y: &Typed, escaped: bool) -> bool {
    if escaped {
        unescaped(key(b, x), Context::FieldKey).eq(unescaped(key(b, y), Context::FieldKey))
    } else {
        x.len == y.len && key(b, x) == key(b, y)
    }
}

/// The key of `t` in `b`.
#[inline(always)]
fn key<'a>(b: &'a [u8], t: &Typed) -> &'a [u8] {
    b.get(t.start..t.start + t.len).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the fields `k=type` of `spec` conflict.
    fn conflicts(spec: &[(&str, FieldType)], escaped: bool) -> bool {
        let mut b = Vec::new();
        let mut scratch = Scratch::default();
        let mut keys = Keys::default();
        let mut spans = Vec::new();
        for (key, _) in spec {
            spans.push((b.len(), key.len()));
            b.extend_from_slice(key.as_bytes());
        }
        for (&(start, len), &(_, ty)) in spans.iter().zip(spec) {
            keys.push(start, len, ty, &mut scratch);
        }
        keys.conflict(&b, escaped, &mut scratch)
    }

    #[test]
    fn finds_the_same_key_with_another_type() {
        use FieldType::*;
        assert!(!conflicts(&[("a", Float), ("b", Integer)], false));
        assert!(conflicts(
            &[("a", Float), ("b", Integer), ("a", String)],
            false
        ));
        assert!(!conflicts(&[("a", Float), ("a", Float)], false));
        // Escaped keys compare unescaped.
        assert!(conflicts(&[("a b", Float), (r"a\ b", Integer)], true));
        // Many fields: sorted, then neighbours compared.
        let keys: Vec<std::string::String> = (0..40).map(|i| format!("field_{i:02}")).collect();
        let mut spec: Vec<(&str, FieldType)> = keys.iter().map(|k| (k.as_str(), Float)).collect();
        assert!(!conflicts(&spec, false));
        spec.push(("field_07", Boolean));
        assert!(conflicts(&spec, false));
        spec.push(("field_07", Float));
        assert!(conflicts(&spec, false));
        assert!(conflicts(&spec, true));
    }
}
