//! Property test of crash recovery: random appends, reads, acks, crashes (drop without close)
//! and damaged tails; every record whose append returned `Ok` and that a consumer did not
//! acknowledge must reach that consumer after reopening, in order, without gaps (re-delivery
//! of acknowledged records is allowed). Records a test deliberately cuts off the disk are the
//! only ones allowed to disappear.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;

use crate::disk::segment::SEGMENT_HEADER_LEN;
use crate::{Consumer, DiskOptions, Entry, EntryId, Error, Queue};

const CONSUMERS: [&str; 2] = ["a", "b"];

#[derive(Debug, Clone)]
enum Op {
    Append {
        len: usize,
    },
    Read {
        consumer: usize,
        max: usize,
    },
    /// Acknowledges the `back`-th newest record delivered to `consumer` since the last reopen.
    Ack {
        consumer: usize,
        back: usize,
    },
    /// Drop everything without `close`, reopen.
    Crash,
    /// Crash, leave a torn frame (a write cut short) at the end of the newest segment, reopen.
    TornWrite {
        len: usize,
        written: usize,
    },
    /// Crash, cut `k` bytes off the newest segment, reopen. Whole records are lost with them:
    /// the model forgets those (this simulates damage, not a crash).
    Truncate {
        k: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..700).prop_map(|len| Op::Append { len }),
        4 => (0..2usize, 1usize..8).prop_map(|(consumer, max)| Op::Read { consumer, max }),
        3 => (0..2usize, 0usize..4).prop_map(|(consumer, back)| Op::Ack { consumer, back }),
        1 => Just(Op::Crash),
        1 => (1usize..500, 0usize..600).prop_map(|(len, written)| Op::TornWrite { len, written }),
        1 => (1usize..2000).prop_map(|k| Op::Truncate { k }),
    ]
}

/// What one consumer has seen, as the model knows it.
#[derive(Debug, Default)]
struct Seen {
    /// Id of the last record acknowledged (everything up to it is acknowledged).
    acked: Option<usize>,
    /// Index in `Model::stream` of the next record `next` must return; `None` right after a
    /// reopen, when a resumed consumer may start anywhere at or before its first unacknowledged
    /// record.
    next: Option<usize>,
    /// Records delivered since the last reopen, for acks.
    delivered: Vec<(usize, EntryId)>,
}

struct Harness {
    opts: DiskOptions,
    queue: Option<Queue>,
    consumers: Vec<Consumer>,
    next_id: usize,
    /// Ids of records whose append returned `Ok` (minus those cut off the disk), in order.
    stream: Vec<usize>,
    seen: Vec<Seen>,
}

fn record(id: usize, len: usize) -> Bytes {
    let mut data = format!("{id:08}").into_bytes();
    data.resize(len.max(8), b'.');
    Bytes::from(data)
}

fn id_of(data: &[u8]) -> usize {
    std::str::from_utf8(&data[..8]).unwrap().parse().unwrap()
}

/// The records of a segment file and where each ends, read without the crate's own code.
fn records_in(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = SEGMENT_HEADER_LEN as usize;
    while offset + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
        let end = offset + 8 + len;
        if end > bytes.len() {
            break;
        }
        out.push((id_of(&bytes[offset + 8..end]), end));
        offset = end;
    }
    out
}

fn newest_segment(dir: &Path) -> std::path::PathBuf {
    let mut segments: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    segments.pop().unwrap()
}

impl Harness {
    fn new(dir: &Path) -> Self {
        let opts = DiskOptions {
            dir: dir.to_path_buf(),
            max_size: 8 * 1024,
            segment_size: 1024,
            consumers: CONSUMERS.iter().map(|c| (*c).to_owned()).collect(),
        };
        let mut harness = Self {
            opts,
            queue: None,
            consumers: Vec::new(),
            next_id: 0,
            stream: Vec::new(),
            seen: CONSUMERS.iter().map(|_| Seen::default()).collect(),
        };
        harness.reopen();
        for seen in &mut harness.seen {
            seen.next = Some(0);
        }
        harness
    }

    fn crash(&mut self) {
        self.consumers.clear();
        self.queue = None;
    }

    fn reopen(&mut self) {
        let (queue, _report) = Queue::open_disk(self.opts.clone()).unwrap();
        self.consumers = CONSUMERS
            .iter()
            .map(|name| queue.consumer(name).unwrap())
            .collect();
        self.queue = Some(queue);
        for seen in &mut self.seen {
            seen.next = None;
            seen.delivered.clear();
        }
    }

    fn queue(&self) -> &Queue {
        self.queue.as_ref().unwrap()
    }

    /// Index in `stream` of the first record `consumer` has not acknowledged.
    fn first_unacked(&self, consumer: usize) -> usize {
        let acked = self.seen[consumer].acked;
        self.stream
            .iter()
            .position(|&id| acked.is_none_or(|acked| id > acked))
            .unwrap_or(self.stream.len())
    }

    /// The next record the model expects `consumer` to get.
    fn expected(&self, consumer: usize) -> Option<usize> {
        let from = self.seen[consumer]
            .next
            .unwrap_or_else(|| self.first_unacked(consumer));
        self.stream.get(from).copied()
    }

    /// True when `next` is certain to return without waiting.
    fn available(&self, consumer: usize) -> bool {
        let from = self.seen[consumer]
            .next
            .unwrap_or_else(|| self.first_unacked(consumer));
        from < self.stream.len()
    }

    fn check_delivered(&mut self, consumer: usize, entries: &[Entry]) {
        assert!(!entries.is_empty());
        for entry in entries {
            let id = id_of(&entry.data);
            let index = self.stream.iter().position(|&s| s == id);
            let index = index
                .unwrap_or_else(|| panic!("{consumer}: delivered {id}, never appended or cut off"));
            match self.seen[consumer].next {
                Some(next) => assert_eq!(
                    index,
                    next,
                    "consumer {consumer}: got {id}, expected {:?} (gap or reorder)",
                    self.stream.get(next)
                ),
                None => assert!(
                    index <= self.first_unacked(consumer),
                    "consumer {consumer} resumed at {id}, past its first unacknowledged record"
                ),
            }
            self.seen[consumer].next = Some(index + 1);
            self.seen[consumer].delivered.push((id, entry.id.clone()));
        }
    }

    async fn read(&mut self, consumer: usize, max: usize) {
        if !self.available(consumer) {
            return;
        }
        // Time is paused and only advances when every task waits on something other than a
        // blocking read: the timeout fires only if `next` would wait for a commit that never
        // comes, i.e. a record the model expects is missing.
        let next = self.consumers[consumer].next(max, usize::MAX);
        let entries = tokio::time::timeout(Duration::from_secs(3600), next)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "consumer {consumer}: nothing to read, expected {:?}",
                    self.expected(consumer)
                )
            })
            .unwrap();
        self.check_delivered(consumer, &entries);
    }

    async fn apply(&mut self, op: &Op) {
        match *op {
            Op::Append { len } => {
                let id = self.next_id;
                self.next_id += 1;
                match self.queue().append(record(id, len)).await {
                    Ok(()) => self.stream.push(id),
                    Err(Error::Full { .. }) => {}
                    Err(e) => panic!("append {id}: {e}"),
                }
            }
            Op::Read { consumer, max } => self.read(consumer, max).await,
            Op::Ack { consumer, back } => {
                let delivered = &self.seen[consumer].delivered;
                let Some((id, pos)) = delivered
                    .iter()
                    .rev()
                    .nth(back)
                    .or(delivered.last())
                    .cloned()
                else {
                    return;
                };
                self.consumers[consumer].ack(&[pos]).await.unwrap();
                let acked = &mut self.seen[consumer].acked;
                *acked = Some(acked.map_or(id, |a| a.max(id)));
            }
            Op::Crash => {
                self.crash();
                self.reopen();
            }
            Op::TornWrite { len, written } => {
                self.crash();
                let mut torn =
                    crate::disk::frame::header(&record(usize::MAX % 100_000_000, len)).to_vec();
                torn.extend_from_slice(&record(0, len));
                torn.truncate(written.min(torn.len() - 1));
                let path = newest_segment(&self.opts.dir);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.extend_from_slice(&torn);
                std::fs::write(&path, bytes).unwrap();
                self.reopen();
            }
            Op::Truncate { k } => {
                self.crash();
                let path = newest_segment(&self.opts.dir);
                let bytes = std::fs::read(&path).unwrap();
                let new_len = bytes.len().saturating_sub(k);
                let header_intact = new_len >= SEGMENT_HEADER_LEN as usize;
                let lost: Vec<usize> = records_in(&bytes)
                    .into_iter()
                    .filter(|&(_, end)| !header_intact || end > new_len)
                    .map(|(id, _)| id)
                    .collect();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(new_len as u64)
                    .unwrap();
                self.stream.retain(|id| !lost.contains(id));
                self.reopen();
            }
        }
    }

    /// Reopens and checks that every consumer gets everything it did not acknowledge.
    async fn verify_after_crash(&mut self) {
        self.crash();
        self.reopen();
        for consumer in 0..CONSUMERS.len() {
            while self.available(consumer) {
                self.read(consumer, 16).await;
            }
            assert_eq!(
                self.seen[consumer].next.unwrap_or(self.stream.len()),
                self.stream.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn crash_recovery_loses_no_unacknowledged_record(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut harness = Harness::new(dir.path());
            for op in &ops {
                harness.apply(op).await;
            }
            harness.verify_after_crash().await;
        });
    }
}
