//! Keeping overwrites in order: which points a write request holds, and the gate a
//! request passes before it is sent.
//!
//! InfluxDB stores one value per series, timestamp and field: a later write of the same
//! point overwrites the earlier one (the InfluxDB 1.x docs, "Duplicate points"). A client
//! that writes a point, gets its 204 and writes it again expects the second value to
//! stay. With several requests in flight at once, a store may apply them in any order
//! (and retries back off with jitter), so a request that writes a point an earlier
//! request still in flight also writes waits for that one to finish ([`Gate::pass`]);
//! requests that share no point go out together.
//!
//! A point is identified by a 64-bit hash of its series key as written (measurement and
//! tags) and its timestamp. Two different points that hash alike only make a request
//! wait; the same series written with its tags in another order is not recognised as
//! the same point (clients write a series' tags in one order). Points are hashed on a
//! blocking thread, and only when a later request has to be checked against them, so the
//! forwarder's own task never walks a batch for this.

use super::coalesce::Request;
use crate::batch::{Batch, Context};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use tokio_util::sync::{CancellationToken, DropGuard};

/// The points of a request, hashed when first awaited; `None` if hashing failed (then
/// the request counts as overlapping every other).
type LazyKeys = Shared<BoxFuture<'static, Option<Arc<PointKeys>>>>;

/// A write request started and maybe not finished, as later requests see it.
#[derive(Clone)]
struct Started {
    context: Context,
    keys: LazyKeys,
    /// Cancelled once the request is finished (delivered, dead-lettered or dropped).
    finished: CancellationToken,
}

/// The write requests of one output that were started and are not known to be finished,
/// in start (buffer) order.
#[derive(Default)]
pub(crate) struct Writes {
    started: VecDeque<Started>,
}

impl Writes {
    /// Registers `request` as started. Returns the gate it must pass before it is sent
    /// and a guard to hold until it is finished (dropping it tells later requests).
    pub(crate) fn start(&mut self, request: &Request) -> (Gate, DropGuard) {
        self.started.retain(|s| !s.finished.is_cancelled());
        let earlier = self
            .started
            .iter()
            .filter(|s| s.context == request.context)
            .cloned()
            .collect();
        let parts = request.parts.clone();
        let keys: LazyKeys = async move {
            tokio::task::spawn_blocking(move || Arc::new(PointKeys::of(&parts)))
                .await
                .ok()
        }
        .boxed()
        .shared();
        let finished = CancellationToken::new();
        self.started.push_back(Started {
            context: request.context.clone(),
            keys: keys.clone(),
            finished: finished.clone(),
        });
        (Gate { keys, earlier }, finished.drop_guard())
    }
}

/// What a request waits for before it is sent: the earlier requests in flight to the
/// same destination that write one of its points.
pub(crate) struct Gate {
    keys: LazyKeys,
    earlier: Vec<Started>,
}

impl Gate {
    /// Returns once no earlier request that writes one of this request's points is in
    /// flight. Hashes nothing when every earlier request has finished.
    pub(crate) async fn pass(self) {
        if self.earlier.iter().all(|s| s.finished.is_cancelled()) {
            return;
        }
        let mine = self.keys.await;
        for earlier in self.earlier {
            if earlier.finished.is_cancelled() {
                continue;
            }
            let theirs = earlier.keys.clone().await;
            let overlap = match (&mine, &theirs) {
                (Some(mine), Some(theirs)) => mine.overlaps(theirs),
                _ => true,
            };
            if overlap {
                earlier.finished.cancelled().await;
            }
        }
    }
}

/// The hashed identities (series key + timestamp) of every point of a request, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PointKeys(Vec<u64>);

impl PointKeys {
    /// The identities of the points of `parts` (canonical line protocol, each point
    /// ending at a line feed outside a string value, with a timestamp).
    pub(crate) fn of(parts: &[Batch]) -> Self {
        let points: usize = parts.iter().map(Batch::points).sum();
        let mut keys = Vec::with_capacity(points);
        for part in parts {
            push_keys(part.lines(), &mut keys);
        }
        keys.sort_unstable();
        keys.dedup();
        Self(keys)
    }

    /// Whether a point is in both (a walk of the two sorted lists).
    pub(crate) fn overlaps(&self, other: &PointKeys) -> bool {
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

/// Appends the identity of each point of canonical `lines` to `keys`.
fn push_keys(lines: &[u8], keys: &mut Vec<u64>) {
    let state = foldhash::fast::FixedState::with_seed(0);
    match crate::point_lines::point_lines(lines) {
        Some(lines) => keys.extend(lines.map(|line| line_identity(&state, line))),
        None => keys.extend(
            sluice_lineproto::trusted_points(lines)
                .flatten()
                .map(|p| identity(&state, p.key_raw(), p.timestamp_raw())),
        ),
    }
}

/// The identity of a point that is one whole line: its series key ends at the first
/// space not escaped by a backslash, its timestamp follows the last space.
fn line_identity(state: &impl BuildHasher, line: &[u8]) -> u64 {
    let mut key_end = memchr::memchr(b' ', line).unwrap_or(line.len());
    while key_end > 0 && key_end < line.len() && line.get(key_end - 1) == Some(&b'\\') {
        key_end = memchr::memchr(b' ', line.get(key_end + 1..).unwrap_or_default())
            .map_or(line.len(), |at| key_end + 1 + at);
    }
    let timestamp = memchr::memrchr(b' ', line).map_or(&[][..], |at| &line[at + 1..]);
    identity(state, &line[..key_end], timestamp)
}

/// The identity of one point: its series key and timestamp, hashed together (without
/// length prefixes: two points that hash alike only make a request wait).
#[inline]
fn identity(state: &impl BuildHasher, key: &[u8], timestamp: &[u8]) -> u64 {
    let mut hasher = state.build_hasher();
    hasher.write(key);
    hasher.write(timestamp);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Context;

    fn keys(lines: &str) -> PointKeys {
        let points = sluice_lineproto::trusted_points(lines.as_bytes()).count();
        PointKeys::of(&[Batch::from_lines(
            Context::default(),
            lines.as_bytes(),
            points,
        )])
    }

    #[test]
    fn the_same_series_and_timestamp_overlap_whatever_the_fields() {
        let a = keys("cpu,host=a usage=1 10\ncpu,host=b usage=1 10\n");
        assert!(a.overlaps(&keys("cpu,host=b idle=3i 10\n")));
        assert!(!a.overlaps(&keys("cpu,host=b usage=1 11\n")));
        assert!(!a.overlaps(&keys("cpu,host=c usage=1 10\n")));
        assert!(!a.overlaps(&keys("mem,host=a usage=1 10\n")));
    }

    #[test]
    fn escaped_spaces_belong_to_the_series_key() {
        let a = keys("tx,label=add\\ to\\ cart v=1 10\n");
        assert!(a.overlaps(&keys("tx,label=add\\ to\\ cart v=2 10\n")));
        assert!(!a.overlaps(&keys("tx,label=add\\ to\\ basket v=2 10\n")));
        assert_eq!(a.0.len(), 1);
    }

    #[test]
    fn string_values_with_spaces_and_line_feeds_are_walked() {
        let a = keys("log,app=x msg=\"a b\nc 12\" 10\nlog,app=y msg=\"z\" 10\n");
        assert_eq!(a.0.len(), 2);
        assert!(a.overlaps(&keys("log,app=x msg=\"other\" 10\n")));
        assert!(!a.overlaps(&keys("log,app=x msg=\"a b\nc 12\" 12\n")));
        // The same points written without strings give the same identities.
        assert!(a.overlaps(&keys("log,app=y n=1i 10\n")));
    }

    #[test]
    fn escaped_line_feeds_and_trailing_backslashes_are_walked() {
        // A tag value ending in an escaped line feed: the point spans two lines.
        let a = keys("m,t=a\\\nb v=1 10\nm,t=c v=1 10\n");
        assert_eq!(a.0.len(), 2);
        assert!(a.overlaps(&keys("m,t=a\\\nb w=2 10\n")));
        assert!(!a.overlaps(&keys("m,t=a v=2 10\n")));
        // Escaped spaces up to the end of a line never loop.
        let b = keys("m,t=x\\ \\ y v=1 10\n");
        assert_eq!(b.0.len(), 1);
        assert!(b.overlaps(&keys("m,t=x\\ \\ y w=1 10\n")));
    }

    /// Canonical bodies made of line protocol's special bytes: the line-by-line path
    /// ends and finds the identities the walk finds.
    #[test]
    fn the_line_path_agrees_with_the_walk() {
        let alphabet = b"ab1 ,=\\\n\t";
        let mut seed = 0x5eed_u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        let mut compared = 0;
        for _ in 0..3_000 {
            // One to three points whose series keys are made of those bytes.
            let mut body = Vec::new();
            for _ in 0..1 + next() % 3 {
                body.push(b'm');
                body.extend((0..next() % 12).map(|_| alphabet[next() % alphabet.len()]));
                body.extend_from_slice(b" v=1i 5\n");
            }
            let mut lines = Vec::new();
            let summary = sluice_lineproto::canonicalize(
                &body,
                sluice_lineproto::Precision::Nanosecond,
                7,
                &mut lines,
            );
            if summary.points == 0 {
                continue;
            }
            let state = foldhash::fast::FixedState::with_seed(0);
            let Some(point_lines) = crate::point_lines::point_lines(&lines) else {
                continue;
            };
            let fast: Vec<u64> = point_lines.map(|l| line_identity(&state, l)).collect();
            let walked: Vec<u64> = sluice_lineproto::trusted_points(&lines)
                .flatten()
                .map(|p| identity(&state, p.key_raw(), p.timestamp_raw()))
                .collect();
            assert_eq!(fast, walked, "{}", lines.escape_ascii());
            compared += 1;
        }
        assert!(compared > 500, "{compared}");
    }

    #[test]
    fn identities_span_every_part_and_repeat_once() {
        let parts = [
            Batch::from_lines(Context::default(), b"m v=1 1\nm v=2 1\n", 2),
            Batch::from_lines(Context::default(), b"m v=3 2\n", 1),
        ];
        let all = PointKeys::of(&parts);
        assert_eq!(all.0.len(), 2);
        assert!(all.overlaps(&keys("m v=9 2\n")));
        assert!(!PointKeys::default().overlaps(&all));
        assert!(PointKeys::default().0.is_empty());
    }
}
