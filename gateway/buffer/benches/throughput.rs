//! Throughput of the disk buffer.
//!
//! Groups: `append_600k` (batches of 5,000 points, the ingest path's record size) and
//! `append_10k` (small requests), each with 1, 8 and 64 concurrent appenders and one consumer
//! reading and acknowledging everything concurrently (the steady state of a relay);
//! `recover_256m`: opening a buffer that retains 256 MiB (every checksum verified; the files
//! are in the page cache, so this is the CPU cost, not a cold disk's). Throughput in bytes.
//! The buffer lives in a temporary directory under `$TMPDIR`, on a real disk, so every group
//! commit pays a real `fdatasync`.
//!
//! Run: `cargo bench -p sluice-buffer --bench throughput`; you should see MiB/s per group.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_buffer::{DiskOptions, Queue};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Appends `iters` records of `size` bytes from `writers` tasks; returns the time taken.
async fn run(queue: &Queue, writers: u64, iters: u64, size: usize) -> Duration {
    let record = Bytes::from(vec![b'x'; size]);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let queue = queue.clone();
            let record = record.clone();
            let count = iters / writers + u64::from(w < iters % writers);
            tokio::spawn(async move {
                for _ in 0..count {
                    queue.append(record.clone()).await.expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer task");
    }
    start.elapsed()
}

fn bench_appends(c: &mut Criterion, name: &str, size: usize) {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("temporary directory");
    let opts = DiskOptions::new(dir.path(), 2 << 30, vec!["out".to_owned()]);
    let (queue, _) = Queue::open_disk(opts).expect("open");
    let mut consumer = queue.consumer("out").expect("consumer");
    let drain = runtime.spawn(async move {
        while let Ok(entries) = consumer.next(64, 8 << 20).await {
            if let Some(last) = entries.last() {
                consumer
                    .ack(std::slice::from_ref(&last.id))
                    .await
                    .expect("ack");
            }
        }
    });
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(size as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for writers in [1u64, 8, 64] {
        group.bench_function(format!("{writers}_writers"), |b| {
            b.iter_custom(|iters| runtime.block_on(run(&queue, writers, iters, size)));
        });
    }
    group.finish();
    runtime.block_on(queue.close()).expect("close");
    runtime.block_on(drain).expect("drain task");
}

fn append_600k(c: &mut Criterion) {
    bench_appends(c, "append_600k", 600 * 1024);
}

fn append_10k(c: &mut Criterion) {
    bench_appends(c, "append_10k", 10 * 1024);
}

fn recover_256m(c: &mut Criterion) {
    const RECORD: usize = 600 * 1024;
    const RECORDS: usize = 256 * 1024 * 1024 / RECORD;
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("temporary directory");
    let opts = DiskOptions::new(dir.path(), 2 << 30, vec!["out".to_owned()]);
    {
        let (queue, _) = Queue::open_disk(opts.clone()).expect("open");
        runtime.block_on(run(&queue, 8, RECORDS as u64, RECORD));
        runtime.block_on(queue.close()).expect("close");
    }
    let mut group = c.benchmark_group("recover_256m");
    group.throughput(Throughput::Bytes((RECORD * RECORDS) as u64));
    group.sample_size(10);
    group.bench_function("open", |b| {
        b.iter(|| {
            let (queue, report) = Queue::open_disk(opts.clone()).expect("open");
            assert_eq!(report.records, RECORDS as u64);
            drop(queue);
        });
    });
    group.finish();
}

criterion_group!(benches, append_600k, append_10k, recover_256m);
criterion_main!(benches);
