//! Parser throughput on realistic load-test batches: 5,000 lines of the kind load
//! generators write (node and label tags, some labels long and escaped, a few aggregate
//! fields, nanosecond timestamps). Reports MB/s and points/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_lineproto::{Precision, canonicalize};
use std::fmt::Write;
use std::hint::black_box;

const LABELS: [&str; 6] = [
    "login",
    "search\\ products\\ by\\ category\\ and\\ price\\ range",
    "add\\ to\\ cart",
    "GET\\ /api/v1/orders/{id}/items?include\\=details",
    "checkout",
    "view\\ order\\ history\\ for\\ the\\ last\\ ninety\\ days",
];

fn batch(lines: usize, with_timestamps: bool) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..lines {
        let _ = write!(
            out,
            "flood,node=node{},label={},region=eu-west count={}i,mean={:.1},p95={:.1},err=\"\"",
            i % 900,
            LABELS[i % LABELS.len()],
            i % 1000,
            40.0 + (i % 77) as f64 * 0.5,
            110.0 + (i % 31) as f64,
        );
        if with_timestamps {
            let _ = write!(out, " {}", 1_700_000_000_000_000_000u64 + i as u64);
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    const LINES: usize = 5_000;
    let input = batch(LINES, true);
    let no_ts = batch(LINES, false);
    let mut out = Vec::with_capacity(input.len() * 2);

    let mut g = c.benchmark_group("canonicalize_bytes");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("5000_lines", |b| {
        b.iter(|| {
            out.clear();
            black_box(canonicalize(
                black_box(&input),
                Precision::Nanosecond,
                0,
                &mut out,
            ))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("canonicalize_points");
    g.throughput(Throughput::Elements(LINES as u64));
    g.bench_function("5000_lines", |b| {
        b.iter(|| {
            out.clear();
            black_box(canonicalize(
                black_box(&input),
                Precision::Nanosecond,
                0,
                &mut out,
            ))
        })
    });
    g.bench_function("5000_lines_no_timestamps", |b| {
        b.iter(|| {
            out.clear();
            black_box(canonicalize(
                black_box(&no_ts),
                Precision::Nanosecond,
                7,
                &mut out,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
