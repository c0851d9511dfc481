//! Where a line ends, as 1.x's line splitter finds it (`scanLine` in
//! `models/points.go`): at the first line feed outside quotes that no backslash escapes.
//!
//! Its rules differ from the parser's: a backslash takes the next byte along (a line
//! feed too, unless the backslash is one of the last two bytes of the body); quotes and
//! the `=` and `,` that decide whether a quote opens a string are only counted after the
//! first space that no backslash pair swallows, even when that space is inside the key
//! for the parser (`m,t\\ k=a"b v=1` leaves a quote open).

/// Index of the line feed that ends the line starting at `from` (or the end of `b`).
pub(crate) fn block_end(b: &[u8], from: usize) -> usize {
    let len = b.len();
    let mut scan = LineScan::default();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c == b'\\' && i + 2 < len {
            i += 2;
            continue;
        }
        if c == b'\n' && !scan.quoted {
            return i;
        }
        scan.byte(c);
        i += 1;
    }
    len
}

/// `scanLine`'s state over a line fed in parts (assuming more body follows, so that a
/// backslash always takes the next byte along).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LineScan {
    /// A space has been seen.
    fields: bool,
    /// Inside a quoted string.
    quoted: bool,
    /// `=` seen outside quotes after the first space.
    equals: usize,
    /// `,` seen outside quotes after the first space.
    commas: usize,
    /// The last byte fed was a backslash that takes the next byte along.
    escape: bool,
    /// A line feed fed would have ended the line.
    ended: bool,
}

impl LineScan {
    /// Feeds the next bytes of the line.
    pub(crate) fn feed(&mut self, part: &[u8]) {
        for &c in part {
            if self.escape {
                self.escape = false;
            } else if c == b'\\' {
                self.escape = true;
            } else {
                self.ended |= c == b'\n' && !self.quoted;
                self.byte(c);
            }
        }
    }

    /// Whether the line is inside a quoted string so far.
    #[cfg(test)]
    pub(crate) fn quoted(&self) -> bool {
        self.quoted
    }

    /// Whether the line would end right after what was fed: no line feed fed would have
    /// ended it, and no quote is left open.
    pub(crate) fn ends_cleanly(&self) -> bool {
        !self.ended && !self.quoted
    }

    /// One byte that no backslash escapes.
    #[inline]
    fn byte(&mut self, c: u8) {
        if c == b' ' {
            self.fields = true;
        }
        if !self.fields {
            return;
        }
        match c {
            b'=' if !self.quoted => self.equals += 1,
            b',' if !self.quoted => self.commas += 1,
            b'"' if self.equals > self.commas => self.quoted = !self.quoted,
            _ => {}
        }
    }
}
