//! The in-memory picture of a disk queue: segments, committed head, space accounting and
//! consumer cursors. Guarded by one mutex that is never held across I/O or an `.await`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};

use super::group_commit::Command;
use super::segment::SEGMENT_HEADER_LEN;
use crate::{ConsumerStats, Position, Stats};

/// One segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    /// Offset just past the last committed (synced, or verified on open) record.
    pub(crate) end: u64,
    /// Bytes the file takes on disk (counted in `retained`).
    pub(crate) file_len: u64,
    /// Sequence number of the segment's first record.
    pub(crate) first_seq: u64,
    /// Sequence number just past its last committed record.
    pub(crate) end_seq: u64,
    /// No more records will be written to it.
    pub(crate) sealed: bool,
}

/// One consumer, configured at open or added later. Slots are never shifted: a consumer's
/// index stays valid for as long as the queue is open; a removed one is a tombstone.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerSlot {
    /// The consumer's name (its cursor file is `cursor-{name}.pos`).
    pub(crate) name: String,
    /// Serialises writes of its cursor file.
    pub(crate) cursor_write: Arc<Mutex<()>>,
    /// Removed by `Queue::remove_consumer`: no longer holds segments, and its name is free.
    pub(crate) removed: bool,
    /// Position just past the last record it acknowledged.
    pub(crate) acked: Position,
    /// Last position written to its cursor file, to skip rewriting an unchanged cursor.
    pub(crate) persisted: Option<Position>,
    /// A `Consumer` handle for this name is alive.
    pub(crate) live: bool,
}

/// A contiguous run of committed bytes in one segment that a consumer can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadPlan {
    /// Segment id.
    pub(crate) segment: u64,
    /// First byte to read (a record boundary).
    pub(crate) start: u64,
    /// Committed end of the segment.
    pub(crate) end: u64,
    /// Sequence number of the record at `start`.
    pub(crate) seq: u64,
}

/// Everything mutable about an open disk queue.
#[derive(Debug)]
pub(crate) struct State {
    /// Retained segments by id; the last one is the active segment (unless closed).
    pub(crate) segments: BTreeMap<u64, SegmentMeta>,
    /// Position just past the newest committed record.
    pub(crate) head: Position,
    /// Bytes of retained segment files.
    pub(crate) retained: u64,
    /// Bytes promised to appends still queued for the writer.
    pub(crate) reserved: u64,
    /// Configured consumers, in configuration order.
    pub(crate) consumers: Vec<ConsumerSlot>,
    /// `close` was called (or the queue dropped): no more appends.
    pub(crate) closed: bool,
    /// The writer failed in a way that makes further appends unsafe.
    pub(crate) failed: Option<String>,
    /// Feeds the writer thread; sending under this lock orders appends before `close`.
    pub(crate) sender: Option<mpsc::Sender<Command>>,
}

impl State {
    /// Removes from the map the sealed segments every consumer has acknowledged completely,
    /// oldest first, and returns their ids and sizes (the caller deletes the files and then
    /// subtracts the sizes from `retained`).
    pub(crate) fn take_passed_segments(&mut self) -> Vec<(u64, u64)> {
        let Some(min_acked) = self
            .consumers
            .iter()
            .filter(|c| !c.removed)
            .map(|c| c.acked.seq)
            .min()
        else {
            return Vec::new();
        };
        let mut passed = Vec::new();
        while let Some(entry) = self.segments.first_entry() {
            let meta = entry.get();
            if !meta.sealed || meta.end_seq > min_acked {
                break;
            }
            passed.push((*entry.key(), meta.file_len));
            entry.remove();
        }
        passed
    }

    /// Where a consumer that has read up to `from` continues, or `None` when it has read
    /// everything committed.
    pub(crate) fn read_plan(&self, from: Position) -> Option<ReadPlan> {
        if from.seq >= self.head.seq {
            return None;
        }
        self.segments.range(from.segment..).find_map(|(&id, meta)| {
            if id == from.segment {
                (from.offset < meta.end).then_some(ReadPlan {
                    segment: id,
                    start: from.offset,
                    end: meta.end,
                    seq: from.seq,
                })
            } else {
                (meta.end_seq > meta.first_seq).then_some(ReadPlan {
                    segment: id,
                    start: SEGMENT_HEADER_LEN,
                    end: meta.end,
                    seq: meta.first_seq,
                })
            }
        })
    }

    /// The position just past everything committed in `segment`, for skipping the rest of a
    /// segment found corrupt while reading.
    pub(crate) fn end_of_segment(&self, segment: u64) -> Option<Position> {
        self.segments.get(&segment).map(|meta| Position {
            segment,
            offset: meta.end,
            seq: meta.end_seq,
        })
    }

    /// Records and bytes after `acked`.
    fn pending(&self, acked: Position) -> (u64, u64) {
        let bytes = self
            .segments
            .range(acked.segment..)
            .map(|(&id, meta)| {
                let from = if id == acked.segment {
                    acked.offset
                } else {
                    SEGMENT_HEADER_LEN
                };
                meta.end.saturating_sub(from)
            })
            .sum();
        (self.head.seq.saturating_sub(acked.seq), bytes)
    }

    /// The index of the consumer `name`, unless it was removed.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.consumers
            .iter()
            .position(|slot| !slot.removed && slot.name == name)
    }

    /// The names of the current consumers, in the order they were added.
    pub(crate) fn names(&self) -> Vec<String> {
        self.consumers
            .iter()
            .filter(|slot| !slot.removed)
            .map(|slot| slot.name.clone())
            .collect()
    }

    /// A snapshot for `Queue::stats`.
    pub(crate) fn stats(&self, max_size: u64) -> Stats {
        let first_seq = self
            .segments
            .values()
            .next()
            .map_or(self.head.seq, |meta| meta.first_seq);
        Stats {
            retained_bytes: self.retained,
            max_size,
            segments: self.segments.len(),
            records: self.head.seq.saturating_sub(first_seq),
            consumers: self
                .consumers
                .iter()
                .filter(|slot| !slot.removed)
                .map(|slot| {
                    let (pending_records, pending_bytes) = self.pending(slot.acked);
                    ConsumerStats {
                        name: slot.name.clone(),
                        pending_records,
                        pending_bytes,
                    }
                })
                .collect(),
            streams: Vec::new(),
            redis: None,
        }
    }
}
