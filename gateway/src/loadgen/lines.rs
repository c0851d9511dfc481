//! The points a simulated load-test node writes: one measurement per tick with a `node`
//! tag, a transaction `label` and the usual aggregate fields, and now and then an error
//! trace (a long string field), as load-testing tools send.

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

/// What a node's batches hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Points per batch.
    pub points: usize,
    /// Distinct transaction labels (up to 8 are realistic names, beyond that `label-N`).
    pub labels: usize,
    /// Bytes of the `trace` string field on one point in 100 (0: no traces).
    pub trace_bytes: usize,
}

impl BatchShape {
    /// `points` points with the 8 usual labels and no traces.
    pub fn new(points: usize) -> Self {
        Self {
            points,
            labels: LABELS.len(),
            trace_bytes: 0,
        }
    }
}

/// A batch for `node`, the `seq`-th it sends. Timestamps are unique per node and batch,
/// so no point overwrites another in the store.
pub fn flood_batch(node: usize, seq: u64, shape: &BatchShape) -> String {
    let points = shape.points;
    let mut out = String::with_capacity(points * 140 + shape.trace_bytes * points.div_ceil(100));
    let base: u64 = 1_700_000_000_000_000_000 + seq * points as u64 * 1_000;
    let labels = shape.labels.max(1);
    for i in 0..points {
        let n = i % labels;
        let label = match LABELS.get(n) {
            Some(name) if labels <= LABELS.len() => name.replace(' ', "\\ "),
            _ => format!("label-{n}"),
        };
        let count = (i % 97) + 1;
        let _infallible = write!(
            out,
            "flood,node=node{node},label={label},region=eu count={count}i,mean={:.1},p95={:.1},errors={}i",
            50.0 + (i % 40) as f64,
            120.0 + (i % 60) as f64,
            i % 3,
        );
        if shape.trace_bytes > 0 && i % 100 == 0 {
            out.push_str(",trace=\"");
            let line = "at com.example.Checkout.submit(Checkout.java:42) ";
            for b in line.bytes().cycle().take(shape.trace_bytes) {
                out.push(char::from(b));
            }
            out.push('"');
        }
        let _infallible = writeln!(out, " {}", base + i as u64 * 1_000 + node as u64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timestamps(s: &str) -> Vec<String> {
        s.lines()
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn batches_parse_and_timestamps_are_unique() {
        let shape = BatchShape::new(100);
        let a = flood_batch(1, 0, &shape);
        let b = flood_batch(1, 1, &shape);
        let mut all = timestamps(&a);
        all.extend(timestamps(&b));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(a.lines().count(), 100);
        let mut out = Vec::new();
        let summary = sluice_lineproto::canonicalize(
            a.as_bytes(),
            sluice_lineproto::Precision::Nanosecond,
            0,
            &mut out,
        );
        assert_eq!(summary.points, 100, "{:?}", summary.first_error);
    }

    #[test]
    fn labels_and_traces_follow_the_shape() {
        let shape = BatchShape {
            points: 200,
            labels: 50,
            trace_bytes: 1000,
        };
        let batch = flood_batch(0, 0, &shape);
        assert!(batch.contains("label=label-49"));
        let traced: Vec<&str> = batch.lines().filter(|l| l.contains("trace=\"")).collect();
        assert_eq!(traced.len(), 2);
        assert!(traced[0].len() > 1000);
    }
}
