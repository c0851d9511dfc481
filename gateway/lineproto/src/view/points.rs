//! Walking a batch point by point.

use super::error::{ViewError, ViewErrorKind};
use super::point::Point;
use super::split::split;
use crate::excerpt::Excerpt;
use crate::scan;

/// The points of a canonical batch, in order, each line's structure checked.
///
/// A line whose structure is not canonical yields an [`Err`] and the walk goes on at the
/// next line; empty lines are skipped. See the [module](super) for what is checked.
pub fn points(batch: &[u8]) -> Points<'_> {
    Points {
        batch,
        pos: 0,
        line: 1,
        trust: false,
    }
}

/// The points of a batch that is known to be canonical — a plugin's input, which the
/// gateway canonicalised — in order, checking less than [`points`]: each line is split
/// into its sections exactly as [`points`] splits it, but the timestamp is not checked
/// or read until [`Point::timestamp`] is called (and no `Err` is about the timestamp).
/// On canonical input both walks yield the same points.
///
/// Nothing here panics or reads out of bounds on any input: a line without the
/// structure a point needs (a measurement, fields, a timestamp) is still an `Err`, but a
/// batch that is not canonical may yield points that [`points`] would refuse — which is
/// why anything that takes bytes it does not trust (the host checking a plugin's
/// output) uses [`points`].
///
/// ```
/// use sluice_lineproto::{points, trusted_points};
/// let batch = b"cpu,host=a usage=0.5 1700000000000000000\nm v=1 -5\n";
/// let trusted: Vec<_> = trusted_points(batch).map(|p| p.map(|p| p.timestamp())).collect();
/// let checked: Vec<_> = points(batch).map(|p| p.map(|p| p.timestamp())).collect();
/// assert_eq!(trusted, checked);
/// ```
pub fn trusted_points(batch: &[u8]) -> Points<'_> {
    Points {
        batch,
        pos: 0,
        line: 1,
        trust: true,
    }
}

/// Iterator over the points of a batch; see [`points`].
#[derive(Debug, Clone)]
pub struct Points<'a> {
    /// The whole batch.
    batch: &'a [u8],
    /// Where the next line starts.
    pos: usize,
    /// 1-based number of the line at `pos`.
    line: usize,
    /// Whether the batch is trusted to be canonical (see [`trusted_points`]).
    trust: bool,
}

impl<'a> Points<'a> {
    /// The part of the batch not read yet.
    pub fn remainder(&self) -> &'a [u8] {
        self.batch.get(self.pos..).unwrap_or_default()
    }

    /// The point (or error) for the line at `start`, which is not empty.
    #[inline]
    fn read(&mut self, start: usize) -> Result<Point<'a>, ViewError> {
        let b = self.batch;
        let line = self.line;
        let split = if self.trust {
            split::<true>(b, start)
        } else {
            split::<false>(b, start)
        };
        match split {
            Ok(s) => {
                self.pos = s.end + 1;
                self.line += 1 + s.newlines;
                Ok(Point::new(b, start, &s))
            }
            Err(kind) => {
                let end = scan::block_end(b, start);
                let text = b.get(start..end).unwrap_or_default();
                self.pos = end + 1;
                self.line += 1 + text.iter().filter(|&&c| c == b'\n').count();
                Err(self.error(line, start, kind))
            }
        }
    }

    /// The error for line number `line`, which starts at `start`.
    #[cold]
    fn error(&self, line: usize, start: usize, kind: ViewErrorKind) -> ViewError {
        let rest = self.batch.get(start..).unwrap_or_default();
        let text = rest.split(|&c| c == b'\n').next().unwrap_or_default();
        ViewError {
            line,
            offset: start,
            kind,
            text: Excerpt::new(text),
        }
    }
}

impl<'a> Iterator for Points<'a> {
    type Item = Result<Point<'a>, ViewError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self.pos;
            match self.batch.get(start)? {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                }
                _ => return Some(self.read(start)),
            }
        }
    }
}

impl std::iter::FusedIterator for Points<'_> {}
