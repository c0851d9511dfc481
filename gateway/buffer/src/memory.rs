//! The in-memory variant: the same queue semantics (fan-out, cursors, `max_size`), no
//! durability. For tests, and edge nodes that accept losing what is buffered on a crash.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;

use crate::error::truncated;
use crate::options::validate_new_consumer;
use crate::position::LogEntry;
use crate::{ConsumerStats, Error, MemoryOptions, Position, Stats};

/// The in-memory queue. Cheap to clone.
#[derive(Clone)]
pub struct MemoryQueue {
    inner: Arc<Inner>,
}

struct Inner {
    max_size: u64,
    state: Mutex<State>,
    /// Sequence number of the newest record; consumers wait on it.
    commits: watch::Sender<u64>,
}

struct Record {
    data: Bytes,
    /// Bytes appended before this record since the queue was created, for pending bytes.
    bytes_before: u64,
}

struct Slot {
    name: String,
    /// Sequence number just past its last acknowledged record.
    acked: u64,
    /// A `Consumer` handle is alive.
    live: bool,
    /// Removed: holds no records, and its name is free.
    removed: bool,
}

struct State {
    records: VecDeque<Record>,
    /// Sequence number of `records[0]`.
    first_seq: u64,
    /// Bytes appended since the queue was created.
    appended: u64,
    /// Bytes of `records`.
    retained: u64,
    /// Per consumer, in the order they were added; never shifted (removed ones are tombstones),
    /// so a `MemoryConsumer`'s index stays valid.
    consumers: Vec<Slot>,
    closed: bool,
}

impl State {
    fn index_of(&self, name: &str) -> Option<usize> {
        self.consumers
            .iter()
            .position(|slot| !slot.removed && slot.name == name)
    }

    /// The index of consumer `name`, which must exist and have no live `MemoryConsumer`.
    fn idle_slot(&self, name: &str) -> Result<usize, Error> {
        let index = self.index_of(name).ok_or_else(|| self.unknown(name))?;
        if self.consumers[index].live {
            return Err(Error::ConsumerBusy {
                name: truncated(name),
            });
        }
        Ok(index)
    }

    fn unknown(&self, name: &str) -> Error {
        let names: Vec<&str> = self
            .consumers
            .iter()
            .filter(|slot| !slot.removed)
            .map(|slot| slot.name.as_str())
            .collect();
        Error::UnknownConsumer {
            name: truncated(name),
            configured: truncated(&names.join(", ")),
        }
    }

    fn head(&self) -> u64 {
        self.first_seq + self.records.len() as u64
    }

    fn bytes_before(&self, seq: u64) -> u64 {
        let index = usize::try_from(seq.saturating_sub(self.first_seq)).unwrap_or(usize::MAX);
        self.records
            .get(index)
            .map_or(self.appended, |record| record.bytes_before)
    }

    /// Drops the records every consumer has acknowledged.
    fn drop_acknowledged(&mut self) {
        let min_acked = self
            .consumers
            .iter()
            .filter(|slot| !slot.removed)
            .map(|slot| slot.acked)
            .min();
        while min_acked.is_none_or(|acked| self.first_seq < acked) {
            let Some(record) = self.records.pop_front() else {
                break;
            };
            self.first_seq += 1;
            self.retained -= record.data.len() as u64;
        }
    }
}

fn position(seq: u64) -> Position {
    Position {
        segment: 0,
        offset: seq,
        seq,
    }
}

impl MemoryQueue {
    /// Creates an empty queue. A name listed twice is one consumer; with no consumer at all,
    /// nothing is ever waiting for a record and appends are dropped at once.
    pub(crate) fn new(opts: MemoryOptions) -> Self {
        let mut names: Vec<String> = Vec::with_capacity(opts.consumers.len());
        for name in opts.consumers {
            if names.contains(&name) {
                tracing::warn!(consumer = %name, "consumer listed twice; using it once");
            } else {
                names.push(name);
            }
        }
        let state = State {
            records: VecDeque::new(),
            first_seq: 0,
            appended: 0,
            retained: 0,
            consumers: names
                .into_iter()
                .map(|name| Slot {
                    name,
                    acked: 0,
                    live: false,
                    removed: false,
                })
                .collect(),
            closed: false,
        };
        Self {
            inner: Arc::new(Inner {
                max_size: opts.max_size,
                state: Mutex::new(state),
                commits: watch::Sender::new(0),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner)
    }

    pub(crate) fn append(&self, record: Bytes) -> Result<(), Error> {
        let len = record.len() as u64;
        if len > self.inner.max_size {
            return Err(Error::RecordTooLarge {
                len,
                max: self.inner.max_size,
            });
        }
        let head = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            if state.retained + len > self.inner.max_size {
                return Err(Error::Full {
                    record: len,
                    retained: state.retained,
                    max_size: self.inner.max_size,
                });
            }
            let bytes_before = state.appended;
            state.records.push_back(Record {
                data: record,
                bytes_before,
            });
            state.appended += len;
            state.retained += len;
            state.drop_acknowledged();
            state.head()
        };
        self.inner.commits.send_replace(head);
        Ok(())
    }

    pub(crate) fn consumer(&self, name: &str) -> Result<MemoryConsumer, Error> {
        let mut state = self.lock();
        let index = state.idle_slot(name)?;
        let slot = &mut state.consumers[index];
        slot.live = true;
        let read = slot.acked;
        drop(state);
        Ok(MemoryConsumer {
            inner: Arc::clone(&self.inner),
            index,
            read,
            commits: self.inner.commits.subscribe(),
        })
    }

    /// See `Queue::add_consumer`.
    pub(crate) fn add_consumer(&self, name: &str) -> Result<MemoryConsumer, Error> {
        {
            let mut state = self.lock();
            validate_new_consumer(name, state.closed, state.index_of(name).is_some())?;
            let acked = state.head();
            state.consumers.push(Slot {
                name: name.to_owned(),
                acked,
                live: false,
                removed: false,
            });
        }
        self.consumer(name)
    }

    /// See `Queue::remove_consumer`.
    pub(crate) fn remove_consumer(&self, name: &str) -> Result<(), Error> {
        let mut state = self.lock();
        let index = state.idle_slot(name)?;
        state.consumers[index].removed = true;
        state.drop_acknowledged();
        Ok(())
    }

    pub(crate) fn stats(&self) -> Stats {
        let state = self.lock();
        Stats {
            retained_bytes: state.retained,
            max_size: self.inner.max_size,
            segments: 0,
            records: state.records.len() as u64,
            consumers: state
                .consumers
                .iter()
                .filter(|slot| !slot.removed)
                .map(|slot| ConsumerStats {
                    name: slot.name.clone(),
                    pending_records: state.head().saturating_sub(slot.acked),
                    pending_bytes: state.appended - state.bytes_before(slot.acked),
                })
                .collect(),
            streams: Vec::new(),
            redis: None,
        }
    }

    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.inner.commits.send_modify(|_| {});
    }
}

fn lock(inner: &Inner) -> MutexGuard<'_, State> {
    inner.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A consumer of the in-memory queue.
pub(crate) struct MemoryConsumer {
    inner: Arc<Inner>,
    index: usize,
    /// Sequence number just past the last record handed out.
    read: u64,
    commits: watch::Receiver<u64>,
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        if let Some(slot) = lock(&self.inner).consumers.get_mut(self.index) {
            slot.live = false;
        }
    }
}

impl MemoryConsumer {
    /// See `Consumer::next`. Cancel-safe: the only `.await` is the wait, before anything moves.
    pub(crate) async fn next(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        loop {
            self.commits.borrow_and_update();
            {
                let state = lock(&self.inner);
                if self.read < state.head() {
                    let start = usize::try_from(self.read - state.first_seq).unwrap_or(usize::MAX);
                    let mut entries: Vec<LogEntry> = Vec::new();
                    let mut bytes = 0usize;
                    for record in state.records.range(start..).take(max_records.max(1)) {
                        if !entries.is_empty()
                            && bytes.saturating_add(record.data.len()) > max_bytes
                        {
                            break;
                        }
                        bytes = bytes.saturating_add(record.data.len());
                        self.read += 1;
                        entries.push(LogEntry {
                            pos: position(self.read),
                            data: record.data.clone(),
                        });
                    }
                    return Ok(entries);
                }
                if state.closed {
                    return Err(Error::Closed);
                }
            }
            self.commits.changed().await.map_err(|_| Error::Closed)?;
        }
    }

    /// See `Consumer::ack`.
    pub(crate) fn ack(&mut self, pos: Position) -> Result<(), Error> {
        let mut state = lock(&self.inner);
        let head = state.head();
        if pos.seq > head || pos.segment != 0 {
            return Err(Error::AckBeyondHead {
                pos,
                head: position(head),
            });
        }
        let Some(slot) = state
            .consumers
            .get_mut(self.index)
            .filter(|slot| !slot.removed)
        else {
            return Ok(());
        };
        if pos.seq > slot.acked {
            slot.acked = pos.seq;
            self.read = self.read.max(pos.seq);
            state.drop_acknowledged();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
