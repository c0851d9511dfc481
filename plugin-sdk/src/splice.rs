//! [`Splice`]: a plugin's output, copied from its input batch in runs between edits.

use std::ops::Range;

/// The output of a batch, copied from the batch's bytes in runs: everything between two
/// edits is one copy, across lines, so a batch where nothing changes costs one copy and a
/// changed point costs a copy per edit. Edits must come in increasing positions (byte
/// offsets into the batch, e.g. [`Point::offset`](crate::Point::offset) plus a range the
/// view gives); the result is canonical when every edit keeps its point canonical.
///
/// ```
/// use sluice_plugin_sdk::Splice;
/// let mut s = Splice::new(b"a,x=1 v=1 1\nb v=2 2", Vec::new());
/// s.cut(1..5); // drop ",x=1"
/// s.copy_to(8);
/// s.out().push(b'9');
/// s.cut(8..9); // replace the value
/// assert_eq!(s.finish(), b"a v=9 1\nb v=2 2\n");
/// ```
#[derive(Debug)]
pub struct Splice<'a> {
    /// The batch.
    batch: &'a [u8],
    /// Start of the bytes not copied yet.
    from: usize,
    /// The output.
    out: Vec<u8>,
}

impl<'a> Splice<'a> {
    /// A splice of `batch` appended to `out` (whose capacity is reused).
    pub fn new(batch: &'a [u8], mut out: Vec<u8>) -> Self {
        out.reserve(batch.len() + batch.len() / 8);
        Self {
            batch,
            from: 0,
            out,
        }
    }

    /// Copies the batch up to `at`.
    #[inline]
    pub fn copy_to(&mut self, at: usize) {
        if at > self.from {
            self.out
                .extend_from_slice(self.batch.get(self.from..at).unwrap_or_default());
            self.from = at;
        }
    }

    /// Leaves `range` of the batch out.
    #[inline]
    pub fn cut(&mut self, range: Range<usize>) {
        self.copy_to(range.start);
        self.from = self.from.max(range.end);
    }

    /// Writes `bytes` at the current position (after [`copy_to`](Self::copy_to)).
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The output buffer, to write into it directly at the current position.
    #[inline]
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Copies the rest of the batch; the output, its last line ended by a line feed.
    pub fn finish(mut self) -> Vec<u8> {
        self.copy_to(self.batch.len());
        if self.out.last().is_some_and(|&c| c != b'\n') {
            self.out.push(b'\n');
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_runs_between_edits() {
        let mut s = Splice::new(b"a,x=1 v=1 1\nb v=2 2", Vec::new());
        s.cut(1..5);
        s.copy_to(8);
        s.out().push(b'9');
        s.cut(8..9);
        assert_eq!(s.finish(), b"a v=9 1\nb v=2 2\n");
    }
}
