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

/// The first timestamp of a node's first batch (2023-11-14T22:13:20Z, in nanoseconds):
/// every timestamp a node writes has 19 digits, so a batch is its template with the
/// digits rewritten.
const BASE_NS: u64 = 1_700_000_000_000_000_000;

/// Digits in every timestamp (`BASE_NS` and up, below 10^19).
const TIMESTAMP_DIGITS: usize = 19;

/// A batch for `node`, the `seq`-th it sends. Timestamps are unique per node and batch,
/// so no point overwrites another in the store.
pub fn flood_batch(node: usize, seq: u64, shape: &BatchShape) -> String {
    let points = shape.points;
    let mut out = String::with_capacity(points * 140 + shape.trace_bytes * points.div_ceil(100));
    let base: u64 = timestamp(node, seq, 0, points);
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
        let _infallible = writeln!(out, " {}", base + i as u64 * 1_000);
    }
    out
}

/// The timestamp of point `i` of the `seq`-th batch of `node` (batches of `points`):
/// 1 µs apart within a node, the node number in the nanoseconds.
fn timestamp(node: usize, seq: u64, i: usize, points: usize) -> u64 {
    BASE_NS
        .saturating_add(seq.saturating_mul(points as u64 * 1_000))
        .saturating_add(i as u64 * 1_000 + node as u64)
}

/// One node's batches, rendered once: each batch is a copy of the first with its
/// timestamps' digits rewritten, so generating load costs a copy per batch rather than
/// formatting every point (the load generator shares the cores with what it measures).
/// Without a template (see [`NodeBatches::new`]) every batch is formatted.
#[derive(Debug, Clone)]
pub struct NodeBatches {
    node: usize,
    shape: BatchShape,
    /// The node's first batch (`seq` 0) and where each point's timestamp starts in it.
    template: Option<(Vec<u8>, Vec<usize>)>,
}

impl NodeBatches {
    /// The batches `node` sends, shaped by `shape`; `render` keeps a template (about
    /// 100 bytes per point plus the traces, for the whole run), else each batch is
    /// formatted when it is sent.
    pub fn new(node: usize, shape: &BatchShape, render: bool) -> Self {
        let template = render.then(|| {
            let template = flood_batch(node, 0, shape).into_bytes();
            // Each line ends with ` <19 digits>\n` (a trace holds no line feed).
            let stamps = template
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c == b'\n')
                .map(|(end, _)| end - TIMESTAMP_DIGITS)
                .collect();
            (template, stamps)
        });
        Self {
            node,
            shape: *shape,
            template,
        }
    }

    /// The `seq`-th batch: the same bytes as [`flood_batch`]`(node, seq, shape)`.
    pub fn batch(&self, seq: u64) -> Vec<u8> {
        let Some((template, stamps)) = &self.template else {
            return flood_batch(self.node, seq, &self.shape).into_bytes();
        };
        let mut out = template.clone();
        for (i, &at) in stamps.iter().enumerate() {
            let ts = timestamp(self.node, seq, i, self.shape.points);
            if let Some(digits) = out.get_mut(at..at + TIMESTAMP_DIGITS) {
                write_digits(digits, ts);
            }
        }
        out
    }
}

/// Writes `n` into `digits` in decimal, right-aligned, zero-padded.
fn write_digits(digits: &mut [u8], mut n: u64) {
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
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
    fn rendered_batches_are_the_formatted_ones() {
        let shapes = [
            BatchShape::new(50),
            BatchShape {
                points: 300,
                labels: 20,
                trace_bytes: 2000,
            },
        ];
        for shape in shapes {
            for node in [0, 7, 99_999] {
                for render in [true, false] {
                    let batches = NodeBatches::new(node, &shape, render);
                    for seq in [0, 1, 2, 1_000_000] {
                        assert_eq!(
                            batches.batch(seq),
                            flood_batch(node, seq, &shape).into_bytes()
                        );
                    }
                }
            }
        }
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
