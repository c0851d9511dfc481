//! A piece of a write request: some of its client batches, or part of one batch's
//! points. When the store refuses a coalesced request, the forwarder splits it into
//! halves and resends them, so that only the client batches that caused the refusal end
//! in the dead-letter store; a `413` splits a single batch by points.

use super::coalesce::Request;
use crate::batch::{Batch, Context};
use bytes::Bytes;

/// Some client batches of one request, sent as one body.
#[derive(Debug, Clone)]
pub struct Piece {
    /// Destination.
    pub context: Context,
    /// The batches, in buffer order.
    pub parts: Vec<Batch>,
}

impl Piece {
    /// The whole request as one piece.
    pub fn of(request: Request) -> Self {
        Self {
            context: request.context,
            parts: request.parts,
        }
    }

    /// Points in the piece.
    pub fn points(&self) -> usize {
        self.parts.iter().map(Batch::points).sum()
    }

    /// The uncompressed body: the parts' lines back to back (no copy for one part).
    pub fn body(&self) -> Bytes {
        match self.parts.as_slice() {
            [one] => one.lines_shared(),
            parts => {
                let mut body = Vec::with_capacity(parts.iter().map(|p| p.lines().len()).sum());
                for p in parts {
                    body.extend_from_slice(p.lines());
                }
                Bytes::from(body)
            }
        }
    }

    /// The piece as one batch (for the dead-letter store).
    pub fn to_batch(&self) -> Batch {
        match self.parts.as_slice() {
            [one] => one.clone(),
            _ => Batch::from_lines(self.context.clone(), &self.body(), self.points()),
        }
    }

    /// Two halves by client batch, if it holds more than one.
    pub fn split_parts(&self) -> Option<[Piece; 2]> {
        if self.parts.len() < 2 {
            return None;
        }
        let (a, b) = self.parts.split_at(self.parts.len() / 2);
        Some([self.with(a.to_vec()), self.with(b.to_vec())])
    }

    /// Two halves by client batch, or else by point (for a store that refuses the size of
    /// a single batch); `None` for a single point.
    pub fn split_points(&self) -> Option<[Piece; 2]> {
        if let Some(halves) = self.split_parts() {
            return Some(halves);
        }
        let [batch] = self.parts.as_slice() else {
            return None;
        };
        let lines = batch.lines();
        let points = batch.points();
        if points < 2 {
            return None;
        }
        // Canonical lines: every point ends with a line feed outside a string value, so
        // the view finds the point boundaries (a string may hold a raw line feed).
        let mid = sluice_lineproto::trusted_points(lines)
            .nth(points / 2)
            .and_then(Result::ok)
            .map(|p| p.offset())?;
        let (a, b) = lines.split_at(mid);
        let half = |l: &[u8], n: usize| Batch::from_lines(self.context.clone(), l, n);
        Some([
            self.with(vec![half(a, points / 2)]),
            self.with(vec![half(b, points - points / 2)]),
        ])
    }

    fn with(&self, parts: Vec<Batch>) -> Piece {
        Piece {
            context: self.context.clone(),
            parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(lines: &[u8], points: usize) -> Batch {
        Batch::from_lines(Context::from_bucket("db"), lines, points)
    }

    #[test]
    fn splits_by_batch_then_by_point() {
        let piece = Piece {
            context: Context::from_bucket("db"),
            parts: vec![
                batch(b"a v=1 1\n", 1),
                batch(b"b v=1 1\n", 1),
                batch(b"c v=1 1\n", 1),
            ],
        };
        assert_eq!(&piece.body()[..], b"a v=1 1\nb v=1 1\nc v=1 1\n");
        let [x, y] = piece.split_parts().unwrap();
        assert_eq!(
            (&x.body()[..], &y.body()[..]),
            (&b"a v=1 1\n"[..], &b"b v=1 1\nc v=1 1\n"[..])
        );
        assert!(x.split_parts().is_none());
        assert!(x.split_points().is_none(), "one point cannot be split");

        // A raw line feed inside a string value is not a point boundary.
        let one = Piece {
            context: Context::from_bucket("db"),
            parts: vec![batch(b"m s=\"a\nb\" 1\nm s=\"c\" 2\nm v=3 3\n", 3)],
        };
        let [x, y] = one.split_points().unwrap();
        assert_eq!(&x.body()[..], b"m s=\"a\nb\" 1\n");
        assert_eq!(x.points(), 1);
        assert_eq!(&y.body()[..], b"m s=\"c\" 2\nm v=3 3\n");
        assert_eq!(y.points(), 2);
        assert_eq!(one.to_batch().lines(), one.body());
    }
}
