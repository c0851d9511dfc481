//! The line being scanned, and where it ends.
//!
//! 1.x splits the body into lines first (`scanLine`) and parses each within its bounds.
//! The fast scan does both at once: it reads on past the end of the line and decides at
//! each line feed whether 1.x's line splitter would end the line there. That decision
//! depends on where the line feed is (quoted or not), so [`Input::at_end`] answers for
//! bytes outside quoted strings and [`Input::at_end_quoted`] for bytes inside them.

use super::odd_backslashes_before;

/// The bytes of a body and how the line being scanned ends in them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    /// The whole body.
    pub(crate) b: &'a [u8],
    /// The end of the line when it is known ([`Input::exact`]), else `b.len()`.
    end: usize,
    /// Whether `end` is the line's end (found by `scanLine` first).
    exact: bool,
}

impl<'a> Input<'a> {
    /// A line whose end is found while scanning it: a line feed ends it unless a
    /// backslash escapes it (an odd run of backslashes before it, and more body after
    /// it) or it is inside a quoted string; a CR before a line feed or the end of the
    /// body ends it too (Sluice's one deliberate leniency).
    #[inline]
    pub(crate) fn fast(b: &'a [u8]) -> Self {
        Self {
            b,
            end: b.len(),
            exact: false,
        }
    }

    /// A line known to end at `end`, inside which every byte is part of the line.
    #[inline]
    pub(crate) fn exact(b: &'a [u8], end: usize) -> Self {
        Self {
            b,
            end: end.min(b.len()),
            exact: true,
        }
    }

    /// Whether this is an [`Input::exact`] line.
    #[inline(always)]
    pub(crate) fn is_exact(&self) -> bool {
        self.exact
    }

    /// The end of the bytes to look at: the line's end when it is known, else the
    /// body's.
    #[inline(always)]
    pub(crate) fn limit(&self) -> usize {
        self.end
    }

    /// Whether the line ends at `i`, outside a quoted string (`i >= len(buf)` in 1.x).
    #[inline(always)]
    pub(crate) fn at_end(&self, i: usize) -> bool {
        let Some(&c) = self.b.get(i) else {
            return true;
        };
        if i >= self.end {
            return true;
        }
        // Most bytes asked about are separators, far above LF and CR: one compare.
        if c > b'\r' || self.exact {
            return false;
        }
        self.line_end_at(i, c)
    }

    /// Whether the byte `c` at `i`, a control byte, ends the line (fast scan).
    #[inline]
    fn line_end_at(&self, i: usize, c: u8) -> bool {
        if c == b'\n' {
            !self.escaped_line_feed(i)
        } else {
            c == b'\r' && matches!(self.b.get(i + 1), None | Some(b'\n'))
        }
    }

    /// Whether the line ends at `i`, inside a quoted string: only at its known end, or
    /// the end of the body.
    #[inline(always)]
    pub(crate) fn at_end_quoted(&self, i: usize) -> bool {
        i >= self.end
    }

    /// Whether the backslash at `i` takes the next byte along (`scanFields`): unless
    /// the line ends right after it.
    #[inline(always)]
    pub(crate) fn pairs(&self, i: usize) -> bool {
        i + 1 < self.end && (self.exact || !self.at_end(i + 1))
    }

    /// Whether the line feed at `i` is escaped for `scanLine`: an odd run of backslashes
    /// before it, and more body after it.
    #[inline]
    fn escaped_line_feed(&self, i: usize) -> bool {
        i + 1 < self.b.len() && odd_backslashes_before(self.b, i)
    }

    /// Where the next line starts, given the line's end `i` (as [`Input::at_end`] found
    /// it): past the line feed, or past CR and line feed.
    #[inline]
    pub(crate) fn past_end(&self, i: usize) -> usize {
        match self.b.get(i) {
            None => self.b.len(),
            Some(b'\r') if self.b.get(i + 1) == Some(&b'\n') => i + 2,
            Some(_) => i + 1,
        }
    }
}
