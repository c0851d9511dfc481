//! A short, inline copy of offending input for error messages, so that errors quote what
//! was wrong without allocating (and stay `'static`, unlike a borrow of the batch).

use std::fmt;

/// The start of some offending input: at most `N` bytes (`N` < 256), cut on a UTF-8
/// character boundary, shown lossily as text with `…` when it was cut.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Excerpt<const N: usize> {
    /// The kept bytes; only `..len` is meaningful.
    bytes: [u8; N],
    /// How many bytes of `bytes` are kept (a byte, to keep errors small).
    len: u8,
    /// Whether the input was longer than what is kept.
    truncated: bool,
}

impl<const N: usize> Excerpt<N> {
    /// Keeps the start of `raw`.
    pub(crate) fn new(raw: &[u8]) -> Self {
        let mut len = raw.len().min(N).min(usize::from(u8::MAX));
        // Back off to a character boundary when the cut falls inside a UTF-8 sequence.
        if len < raw.len() {
            let mut back = len;
            while back > 0 && raw.get(back).is_some_and(|&b| b & 0xC0 == 0x80) {
                back -= 1;
            }
            if len - back < 4 {
                len = back;
            }
        }
        let mut bytes = [0; N];
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), raw.get(..len)) {
            dst.copy_from_slice(src);
        }
        Self {
            bytes,
            len: u8::try_from(len).unwrap_or(u8::MAX),
            truncated: len < raw.len(),
        }
    }

    /// Keeps the start of the bytes `bytes` yields (e.g. unescaped text), reading at most
    /// `N + 1` of them.
    pub(crate) fn collect(bytes: impl IntoIterator<Item = u8>) -> Self {
        let mut buf = [0u8; 256];
        let mut len = 0;
        for (slot, byte) in buf.iter_mut().zip(bytes).take(N + 1) {
            *slot = byte;
            len += 1;
        }
        Self::new(buf.get(..len).unwrap_or_default())
    }

    /// The kept bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Whether the input was longer than what is kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl<const N: usize> fmt::Display for Excerpt<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Excerpt<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::Excerpt;

    #[test]
    fn keeps_short_input_whole() {
        let e = Excerpt::<8>::new(b"cpu v=1");
        assert_eq!(e.to_string(), "cpu v=1");
        assert!(!e.is_truncated());
    }

    #[test]
    fn cuts_long_input_on_a_char_boundary() {
        let e = Excerpt::<5>::new("abcdéf".as_bytes());
        assert_eq!(e.as_bytes(), b"abcd");
        assert_eq!(e.to_string(), "abcd…");
        assert_eq!(Excerpt::<3>::new(b"abcdef").to_string(), "abc…");
    }

    #[test]
    fn collects_from_an_iterator() {
        let e = Excerpt::<3>::collect(b"abcdef".iter().copied());
        assert_eq!((e.as_bytes(), e.is_truncated()), (&b"abc"[..], true));
        let e = Excerpt::<8>::collect(b"ab".iter().copied());
        assert_eq!((e.as_bytes(), e.is_truncated()), (&b"ab"[..], false));
    }

    #[test]
    fn shows_invalid_utf8_lossily() {
        assert_eq!(Excerpt::<8>::new(b"a\xFFb").to_string(), "a\u{FFFD}b");
    }
}
