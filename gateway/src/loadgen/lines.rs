//! The points a simulated load-test node writes: one measurement per tick with a `node`
//! tag, a transaction `label` and the usual aggregate fields.

use std::fmt::Write;

const LABELS: [&str; 8] = [
    "login",
    "search products",
    "add to cart",
    "checkout step 1",
    "checkout step 2",
    "view order history",
    "logout",
    "GET /api/v1/items/{id}",
];

/// A batch of `points` lines for `node`, the `seq`-th it sends. Timestamps are unique per
/// node and batch, so no point overwrites another in the store.
pub fn flood_batch(node: usize, seq: u64, points: usize) -> String {
    let mut out = String::with_capacity(points * 140);
    let base: u64 = 1_700_000_000_000_000_000 + seq * points as u64 * 1_000;
    for i in 0..points {
        let label = LABELS[i % LABELS.len()].replace(' ', "\\ ");
        let count = (i % 97) + 1;
        let _infallible = writeln!(
            out,
            "flood,node=node{node},label={label},region=eu count={count}i,mean={:.1},p95={:.1},errors={}i {}",
            50.0 + (i % 40) as f64,
            120.0 + (i % 60) as f64,
            i % 3,
            base + i as u64 * 1_000 + node as u64
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_parse_and_timestamps_are_unique() {
        let a = flood_batch(1, 0, 100);
        let b = flood_batch(1, 1, 100);
        let ts = |s: &str| -> Vec<String> {
            s.lines()
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
                .collect()
        };
        let mut all = ts(&a);
        all.extend(ts(&b));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(a.lines().count(), 100);
    }
}
