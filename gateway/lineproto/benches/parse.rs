//! Throughput on realistic load-test batches: 5,000 lines of the kind load generators
//! write (node, label and region tags, labels of 4 to 60 bytes, half with escaped
//! spaces, four aggregate fields, nanosecond timestamps), about 126 bytes a line.
//!
//! Groups:
//! - `canonicalize_bytes`: MB/s of the canonicaliser.
//! - `canonicalize_points`: points/s of the canonicaliser, also with second timestamps
//!   and without timestamps.
//! - `view_points`: walking a canonical batch and reading one tag of every point.
//! - `writer_points`: what the tag-strip plugin does: copy every point minus its `node`
//!   tag, tag by tag (`tag_raw`) and in runs (`tags_from`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_lineproto::{LineWriter, Precision, canonicalize, points};
use std::fmt::Write;
use std::hint::black_box;

const LINES: usize = 5_000;

const LABELS: [&str; 8] = [
    "login",
    "search\\ products\\ by\\ category\\ and\\ price\\ range",
    "add\\ to\\ cart",
    "GET\\ /api/v1/orders/{id}/items?include\\=details\\,history",
    "checkout",
    "view\\ order\\ history\\ for\\ the\\ last\\ ninety\\ days",
    "tx42",
    "POST\\ /api/v2/payments/authorize",
];

/// A batch; `timestamp(i)` gives line `i`'s timestamp text (none when `None`).
fn batch(timestamp: impl Fn(usize) -> Option<u64>) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..LINES {
        let _ = write!(
            out,
            "flood,node=node{},label={},region=eu-west count={}i,mean={:.1},p95={:.1},err=\"\"",
            i % 900,
            LABELS[i % LABELS.len()],
            i % 1000,
            40.0 + (i % 77) as f64 * 0.5,
            110.0 + (i % 31) as f64,
        );
        if let Some(ts) = timestamp(i) {
            let _ = write!(out, " {ts}");
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn canonicalize_benches(c: &mut Criterion) {
    let nanos = batch(|i| Some(1_700_000_000_000_000_000 + i as u64));
    let seconds = batch(|i| Some(1_700_000_000 + i as u64));
    let none = batch(|_| None);
    let mut out = Vec::with_capacity(nanos.len() * 2);
    let mut run = |input: &[u8], precision| {
        out.clear();
        let s = canonicalize(black_box(input), precision, 7, &mut out);
        assert_eq!(s.points, LINES);
        black_box(s);
    };

    let mut g = c.benchmark_group("canonicalize_bytes");
    g.throughput(Throughput::Bytes(nanos.len() as u64));
    g.bench_function("5000_lines", |b| {
        b.iter(|| run(&nanos, Precision::Nanosecond))
    });
    g.finish();

    let mut g = c.benchmark_group("canonicalize_points");
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("5000_lines", |b| {
        b.iter(|| run(&nanos, Precision::Nanosecond))
    });
    g.bench_function("5000_lines_second_precision", |b| {
        b.iter(|| run(&seconds, Precision::Second))
    });
    g.bench_function("5000_lines_no_timestamps", |b| {
        b.iter(|| run(&none, Precision::Nanosecond))
    });
    g.finish();
}

fn view_and_writer_benches(c: &mut Criterion) {
    let mut canonical = Vec::new();
    canonicalize(
        &batch(|i| Some(1_700_000_000_000_000_000 + i as u64)),
        Precision::Nanosecond,
        0,
        &mut canonical,
    );
    let mut out = LineWriter::with_capacity(canonical.len());

    let mut g = c.benchmark_group("view_points");
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("iterate", |b| {
        b.iter(|| {
            let mut sum = 0i64;
            for p in points(black_box(&canonical)).flatten() {
                sum = sum.wrapping_add(p.timestamp());
            }
            black_box(sum)
        })
    });
    g.bench_function("iterate_read_tag", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for p in points(black_box(&canonical)).flatten() {
                found += p.tag("label").map_or(0, |v| v.as_raw().len());
            }
            black_box(found)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("writer_points");
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("tag_strip_tag_by_tag", |b| {
        b.iter(|| {
            out.clear();
            for p in points(black_box(&canonical)).flatten() {
                let mut w = out.point_raw(p.measurement());
                for (k, v) in p.tags() {
                    if k != "node" {
                        w.tag_raw(k, v);
                    }
                }
                w.fields_raw(p.fields_raw());
                let _ = w.finish_raw(p.timestamp_raw());
            }
            assert_eq!(out.points(), LINES);
        })
    });
    g.bench_function("tag_strip_tags_from", |b| {
        b.iter(|| {
            out.clear();
            for p in points(black_box(&canonical)).flatten() {
                let mut w = out.point_raw(p.measurement());
                w.tags_from(&p, |k, _| k != "node");
                w.fields_raw(p.fields_raw());
                let _ = w.finish_raw(p.timestamp_raw());
            }
            assert_eq!(out.points(), LINES);
        })
    });
    g.bench_function("copy_unchanged", |b| {
        b.iter(|| {
            out.clear();
            for p in points(black_box(&canonical)).flatten() {
                out.push_point(&p);
            }
            assert_eq!(out.points(), LINES);
        })
    });
    g.finish();
}

criterion_group!(benches, canonicalize_benches, view_and_writer_benches);
criterion_main!(benches);
