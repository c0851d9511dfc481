//! Unit tests of the disk queue, with the helpers they share: `queue` (round trips, fan-out,
//! rollover, space, locks, cancellation), `recovery` (reopening after crashes and damage),
//! `faults` (simulated I/O failures), `crash` (the crash-recovery property test).

mod crash;
mod faults;
mod membership;
mod queue;
mod recovery;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::group_commit::Failure;
use super::segment;
use crate::{Consumer, DiskOptions, Entry, Queue, RecoveryReport};

/// I/O failures the writer thread simulates for the next group commit.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(super) write: AtomicBool,
    pub(super) sync: AtomicBool,
}

impl Faults {
    /// The failure to simulate now, if one was asked for.
    pub(crate) fn take(&self, path: &Path) -> Option<Failure> {
        let injected = || std::io::Error::other("injected failure");
        if self.write.swap(false, Ordering::SeqCst) {
            return Some(Failure::write("write", path, injected()));
        }
        self.sync
            .swap(false, Ordering::SeqCst)
            .then(|| Failure::sync(path, injected()))
    }
}

pub(super) fn faults(queue: &Queue) -> &Faults {
    match queue {
        Queue::Disk(disk) => &disk.inner.core.faults,
        Queue::Memory(_) | Queue::Redis(_) => unreachable!("a disk queue"),
    }
}

pub(super) fn options(dir: &Path, consumers: &[&str]) -> DiskOptions {
    DiskOptions {
        dir: dir.to_path_buf(),
        max_size: 1 << 20,
        segment_size: 4096,
        consumers: consumers.iter().map(|c| (*c).to_owned()).collect(),
    }
}

pub(super) fn open(opts: &DiskOptions) -> (Queue, RecoveryReport) {
    Queue::open_disk(opts.clone()).unwrap()
}

/// A record that says which one it is, padded to `len` bytes.
pub(super) fn record(i: usize, len: usize) -> Bytes {
    let mut data = format!("record-{i:06}-").into_bytes();
    data.resize(len.max(data.len()), b'x');
    Bytes::from(data)
}

pub(super) fn id(entry: &Entry) -> usize {
    std::str::from_utf8(&entry.data[7..13])
        .unwrap()
        .parse()
        .unwrap()
}

pub(super) async fn append_range(queue: &Queue, range: std::ops::Range<usize>, len: usize) {
    for i in range {
        queue.append(record(i, len)).await.unwrap();
    }
}

/// Reads exactly `n` records (failing the test if fewer are there: `next` would wait forever,
/// so the caller only asks for what it knows is committed).
pub(super) async fn take(consumer: &mut Consumer, n: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(consumer.next(n - out.len(), usize::MAX).await.unwrap());
    }
    out
}

pub(super) async fn take_ids(consumer: &mut Consumer, n: usize) -> Vec<usize> {
    take(consumer, n).await.iter().map(id).collect()
}

/// True when `next` has nothing to return. The tests run with paused time, which only advances
/// when every task waits on something other than a blocking read, so the timeout fires exactly
/// when `next` waits for a commit.
pub(super) async fn is_drained(consumer: &mut Consumer) -> bool {
    tokio::time::timeout(Duration::from_secs(3600), consumer.next(1, usize::MAX))
        .await
        .is_err()
}

/// Names of the files in `dir` that `keep` takes.
pub(super) fn file_names(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| keep(n))
        .collect()
}

pub(super) fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            segment::parse_file_name(name).is_some()
        })
        .collect();
    files.sort();
    files
}
