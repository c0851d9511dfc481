//! Duplicate tag keys (`scanKey` in `models/points.go`, 1.x): two tags whose keys are the
//! same bytes as written refuse the line ("duplicate tags"). 1.x compares neighbours while
//! the keys come sorted and sorts them (insertion sort on indices) when they do not; the
//! answer is the same as asking whether any two keys are equal, which is what this does.
//!
//! As the key scan goes, each key sets one bit of a 64-bit set, by a hash of its length,
//! first and last bytes: keys that set no bit twice are all different, which is the common
//! case, decided without comparing any. When a bit is set twice, the keys are sorted (on
//! the stack for up to [`STACK`] tags) and neighbours compared.

/// Tags whose key spans are sorted on the stack; more take a heap allocation (once per
/// such line: a line with this many tags and a hash collision is not the common case).
const STACK: usize = 32;

/// Tag keys seen so far, as the key scan walks them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Duplicates {
    /// One bit per key hash.
    hashes: u64,
    /// Whether two keys hashed the same: only then can two be equal.
    maybe: bool,
    /// Keys seen.
    count: usize,
}

impl Duplicates {
    /// The next key.
    #[inline(always)]
    pub(super) fn push(&mut self, key: &[u8]) {
        let bit = 1u64 << hash(key);
        self.maybe |= self.hashes & bit != 0;
        self.hashes |= bit;
        self.count += 1;
    }

    /// Whether two keys are equal; the tag set (`k=v,k=v`) is at `start..end` of `b`,
    /// scanned already.
    #[inline]
    pub(super) fn found(&self, b: &[u8], start: usize, end: usize) -> bool {
        self.maybe && any_equal(b.get(start..end).unwrap_or_default(), self.count)
    }
}

/// A hash of a key in `0..64`, from its length and its first and last bytes.
#[inline(always)]
fn hash(key: &[u8]) -> u32 {
    let first = u64::from(key.first().copied().unwrap_or_default());
    let last = u64::from(key.last().copied().unwrap_or_default());
    let mixed = (key.len() as u64 | first << 16 | last << 24).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 58) as u32
}

/// Whether two of the `count` tag keys of the tag set `tags` are equal.
#[cold]
fn any_equal(tags: &[u8], count: usize) -> bool {
    let mut on_stack = [(0usize, 0usize); STACK];
    let mut on_heap = Vec::new();
    let spans: &mut [(usize, usize)] = if count <= STACK {
        &mut on_stack
    } else {
        on_heap.resize(count, (0, 0));
        &mut on_heap
    };
    let mut n = 0;
    for (slot, span) in spans.iter_mut().zip(KeySpans::new(tags)) {
        *slot = span;
        n += 1;
    }
    let spans = spans.get_mut(..n).unwrap_or_default();
    let key = |&(s, e): &(usize, usize)| tags.get(s..e).unwrap_or_default();
    spans.sort_unstable_by(|a, b| key(a).cmp(key(b)));
    spans.windows(2).any(|w| match w {
        [a, b] => key(a) == key(b),
        _ => false,
    })
}

/// Whether the tag set `tags` (`k=v,k=v`, well formed) has two equal keys, and whether it
/// has a key `time`: the writer's check of a finished point.
pub(crate) fn check_tags(tags: &[u8]) -> (bool, bool) {
    let mut duplicates = Duplicates::default();
    let mut time = false;
    for (s, e) in KeySpans::new(tags) {
        let key = tags.get(s..e).unwrap_or_default();
        time |= key == b"time";
        duplicates.push(key);
    }
    (duplicates.found(tags, 0, tags.len()), time)
}

/// The key spans of a tag set scanned already (so well formed): a key has at least one
/// byte, then ends at an `=` no backslash precedes; a value has at least one byte (an
/// `=` will do), then ends at a `,` no backslash precedes.
struct KeySpans<'a> {
    /// The tag set.
    tags: &'a [u8],
    /// Where the next tag starts.
    i: usize,
}

impl<'a> KeySpans<'a> {
    fn new(tags: &'a [u8]) -> Self {
        Self { tags, i: 0 }
    }

    /// Whether `tags[i]` is `c`, not escaped.
    fn unescaped(&self, i: usize, c: u8) -> bool {
        self.tags.get(i) == Some(&c) && self.tags.get(i.wrapping_sub(1)) != Some(&b'\\')
    }
}

impl Iterator for KeySpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let len = self.tags.len();
        let start = self.i;
        if start >= len {
            return None;
        }
        let mut i = start + 1;
        while i < len && !self.unescaped(i, b'=') {
            i += 1;
        }
        let end = i;
        i += 2;
        while i < len && !self.unescaped(i, b',') {
            i += 1;
        }
        self.i = i + 1;
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicated(tags: &str) -> bool {
        let b = tags.as_bytes();
        let mut d = Duplicates::default();
        for (s, e) in KeySpans::new(b) {
            d.push(&b[s..e]);
        }
        d.found(b, 0, b.len())
    }

    #[test]
    fn finds_equal_keys_sorted_or_not() {
        assert!(!duplicated("a=1,b=2,c=3"));
        assert!(duplicated("a=1,a=2"));
        assert!(duplicated("a=1,b=2,b=3"));
        assert!(!duplicated("c=1,a=2,b=3"));
        assert!(duplicated("c=1,a=2,c=3"));
        assert!(duplicated("b=1,a=2,b=3"));
        // Keys compare as written: `\ ` and ` ` are different keys only if written so.
        assert!(!duplicated(r"a\ b=1,a\,b=2"));
        assert!(duplicated(r"a\ b=1,x=1,a\ b=2"));
        // `=` at the start of a value and escaped separators do not split.
        assert!(!duplicated(r"k==1,k\==2"));
        assert!(duplicated(r"z=1,k\,x=a\,b,k\,x=c"));
        // Keys that hash the same but differ.
        assert!(!duplicated("ab=1,ab2=2,a1b=3,a2b=4,a3b=5,a4b=6"));
    }

    #[test]
    fn handles_many_tags_out_of_order() {
        let mut tags: Vec<String> = (0..200).rev().map(|i| format!("k{i}=v")).collect();
        assert!(!duplicated(&tags.join(",")));
        tags.push("k7=w".into());
        assert!(duplicated(&tags.join(",")));
        let mut tags: Vec<String> = (10..30).map(|i| format!("k{i}=v")).collect();
        assert!(!duplicated(&tags.join(",")));
        tags.push("k12=w".into());
        assert!(duplicated(&tags.join(",")));
    }

    #[test]
    fn checks_a_written_tag_set() {
        assert_eq!(check_tags(b"a=1,b=2"), (false, false));
        assert_eq!(check_tags(b"a=1,time=2"), (false, true));
        assert_eq!(check_tags(b"a=1,a=2"), (true, false));
    }
}
