//! The durable variant: segment files, a group-commit writer thread, per-consumer cursors.

mod consumer;
mod cursor;
pub(crate) mod dir;
pub(crate) mod frame;
mod gc;
mod group_commit;
mod reclaim;
mod recovery;
mod segment;
mod state;

/// Waits for `thread`, if any, and logs (as `<name> thread panicked`) if it panicked.
fn join_logged(thread: Option<std::thread::JoinHandle<()>>, name: &str) {
    if let Some(thread) = thread
        && thread.join().is_err()
    {
        tracing::error!("{name} thread panicked");
    }
}

#[cfg(test)]
mod tests;

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::Record;
use tokio::sync::{oneshot, watch};

pub(crate) use consumer::DiskConsumer;
use frame::{FRAME_HEADER_LEN, MAX_PAYLOAD_LEN};
use group_commit::{Command, PendingAppend};
use segment::SEGMENT_HEADER_LEN;
use state::{ConsumerSlot, State};

use crate::error::truncated;
use crate::options::{validate_consumers, validate_max_size, validate_new_consumer};
use crate::{DiskOptions, Error, RecoveryReport, Stats};

/// Smallest segment size accepted.
const MIN_SEGMENT_SIZE: u64 = 1024;

/// What the queue handle, its consumers and the writer thread share.
pub(crate) struct Core {
    /// The buffer directory.
    pub(crate) dir: PathBuf,
    /// Cap on retained bytes.
    pub(crate) max_size: u64,
    /// Segment size after clamping to `max_size / 4`.
    pub(crate) segment_size: u64,
    /// Largest record accepted: one that always fits once every consumer has caught up.
    pub(crate) max_record: u64,
    state: Mutex<State>,
    /// Sequence number of the committed head; consumers wait on it.
    pub(crate) commits: watch::Sender<u64>,
    /// Serialises adding and removing consumers (their cursor files).
    membership: Mutex<()>,
    /// Removes deleted segments off the writer thread.
    pub(crate) reclaimer: reclaim::Reclaimer,
    /// Holds the directory's `LOCK` for as long as anything uses the queue.
    _lock: File,
    /// I/O failures for the writer to simulate.
    #[cfg(test)]
    pub(crate) faults: tests::Faults,
}

impl Core {
    /// Locks the state; a panic elsewhere while it was held does not make it unusable (every
    /// update leaves it consistent before anything can panic).
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The queue's figures; `retained_bytes` includes deleted segments not removed yet.
    pub(crate) fn stats(&self) -> Stats {
        let mut stats = self.lock_state().stats(self.max_size);
        stats.retained_bytes += self.reclaimer.pending_bytes();
        stats
    }

    /// Writes consumer `index`'s acknowledged position to its cursor file unless it is already
    /// there. Blocking.
    pub(crate) fn persist_cursor(&self, index: usize, durable: bool) -> Result<(), Error> {
        let Some(serial) = self
            .lock_state()
            .consumers
            .get(index)
            .map(|slot| Arc::clone(&slot.cursor_write))
        else {
            return Ok(());
        };
        let _serial = serial.lock().unwrap_or_else(PoisonError::into_inner);
        let (acked, persisted, name) = {
            let state = self.lock_state();
            let Some(slot) = state.consumers.get(index).filter(|slot| !slot.removed) else {
                return Ok(());
            };
            (slot.acked, slot.persisted, slot.name.clone())
        };
        if persisted == Some(acked) && !durable {
            return Ok(());
        }
        cursor::write(&self.dir, &name, acked.segment, acked.offset, durable)?;
        if let Some(slot) = self.lock_state().consumers.get_mut(index) {
            slot.persisted = Some(acked);
        }
        Ok(())
    }
}

/// The durable queue. Cheap to clone; the last clone dropped stops the writer thread (after
/// the group commit in progress) without persisting anything more: that is a crash as far as
/// the data is concerned, and recovery handles it.
#[derive(Clone)]
pub struct DiskQueue {
    inner: Arc<DiskInner>,
}

struct DiskInner {
    core: Arc<Core>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for DiskInner {
    fn drop(&mut self) {
        {
            let mut state = self.core.lock_state();
            state.closed = true;
            state.sender = None;
        }
        self.core.commits.send_modify(|_| {});
        let writer = self
            .writer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        join_logged(writer, "buffer writer");
        // Like a crash: a removal still queued finishes on its own, or on the next open.
        self.core.reclaimer.stop();
    }
}

impl DiskQueue {
    /// Opens (creating if needed) and recovers the buffer in `opts.dir`.
    pub(crate) fn open(opts: DiskOptions) -> Result<(Self, RecoveryReport), Error> {
        validate_consumers(&opts.consumers)?;
        validate_max_size(opts.max_size)?;
        if opts.segment_size < MIN_SEGMENT_SIZE {
            return Err(Error::InvalidOptions {
                reason: format!(
                    "segment_size {} is below the minimum of {MIN_SEGMENT_SIZE} bytes",
                    opts.segment_size
                ),
            });
        }
        let segment_size = opts.segment_size.min(opts.max_size / 4);
        let max_record = (opts.max_size - segment_size - 2 * SEGMENT_HEADER_LEN - FRAME_HEADER_LEN)
            .min(MAX_PAYLOAD_LEN);
        let lock = dir::lock(&opts.dir)?;
        let recovery::Recovered {
            mut state,
            active,
            mut report,
            stale_cursors,
        } = recovery::recover(&opts.dir, &opts.consumers, segment_size)?;
        let (sender, commands) = mpsc::channel();
        state.sender = Some(sender);
        let head = state.head.seq;
        let reclaimer = reclaim::Reclaimer::spawn(&opts.dir)?;
        let core = Arc::new(Core {
            dir: opts.dir,
            max_size: opts.max_size,
            segment_size,
            max_record,
            membership: Mutex::new(()),
            state: Mutex::new(state),
            commits: watch::Sender::new(head),
            reclaimer,
            _lock: lock,
            #[cfg(test)]
            faults: tests::Faults::default(),
        });
        for index in stale_cursors {
            core.persist_cursor(index, true)?;
        }
        gc::delete_passed_segments(&core, gc::Removal::Here);
        let stats = core.stats();
        report.segments = stats.segments;
        report.records = stats.records;
        report.retained_bytes = stats.retained_bytes;
        let writer = group_commit::spawn(Arc::clone(&core), commands, active)?;
        tracing::info!(dir = %core.dir.display(), %report, "opened disk buffer");
        let inner = DiskInner {
            core,
            writer: Mutex::new(Some(writer)),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
            },
            report,
        ))
    }

    pub(crate) async fn append(&self, record: Record) -> Result<(), Error> {
        let core = &self.inner.core;
        let len = record.len() as u64;
        if len > core.max_record {
            return Err(Error::RecordTooLarge {
                len,
                max: core.max_record,
            });
        }
        let frame_len = FRAME_HEADER_LEN + len;
        // Room for this record, a segment header if it rolls over, and one for an eager roll.
        let reservation = frame_len + SEGMENT_HEADER_LEN;
        let (done, answer) = oneshot::channel();
        {
            let mut state = core.lock_state();
            if let Some(reason) = &state.failed {
                return Err(Error::WriterFailed {
                    reason: reason.clone(),
                });
            }
            let used = state.retained + state.reserved + core.reclaimer.pending_bytes();
            if used + reservation + SEGMENT_HEADER_LEN > core.max_size {
                return Err(Error::Full {
                    record: frame_len,
                    retained: used,
                    max_size: core.max_size,
                });
            }
            let Some(sender) = state.sender.as_ref().filter(|_| !state.closed) else {
                return Err(Error::Closed);
            };
            let command = Command::Append(PendingAppend {
                record,
                reservation,
                done,
            });
            if sender.send(command).is_err() {
                return Err(Error::Closed);
            }
            state.reserved += reservation;
        }
        answer.await.unwrap_or(Err(Error::Closed))
    }

    pub(crate) fn consumer(&self, name: &str) -> Result<DiskConsumer, Error> {
        let core = &self.inner.core;
        let index = {
            let state = core.lock_state();
            state.index_of(name).ok_or_else(|| Error::UnknownConsumer {
                name: truncated(name),
                configured: truncated(&state.names().join(", ")),
            })?
        };
        DiskConsumer::new(Arc::clone(core), index)
    }

    /// See `Queue::add_consumer`. Blocking (writes and syncs the cursor file).
    pub(crate) fn add_consumer(&self, name: &str) -> Result<DiskConsumer, Error> {
        let core = &self.inner.core;
        let _membership = core
            .membership
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (index, tail) = {
            let mut state = core.lock_state();
            validate_new_consumer(name, state.closed, state.index_of(name).is_some())?;
            let tail = state.head;
            state.consumers.push(ConsumerSlot {
                name: name.to_owned(),
                cursor_write: Arc::default(),
                removed: false,
                acked: tail,
                persisted: None,
                live: false,
            });
            (state.consumers.len() - 1, tail)
        };
        if let Err(e) = core.persist_cursor(index, true) {
            // Not durable, so not added: a restart would not know where it starts.
            if let Some(slot) = core.lock_state().consumers.get_mut(index) {
                slot.removed = true;
            }
            return Err(e);
        }
        tracing::info!(consumer = %name, tail = %tail, "added buffer consumer at the tail");
        DiskConsumer::new(Arc::clone(core), index)
    }

    /// See `Queue::remove_consumer`. Blocking (deletes the cursor file and segments).
    pub(crate) fn remove_consumer(&self, name: &str) -> Result<(), Error> {
        let core = &self.inner.core;
        let _membership = core
            .membership
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let serial = {
            let mut state = core.lock_state();
            let Some(index) = state.index_of(name) else {
                return Err(Error::UnknownConsumer {
                    name: truncated(name),
                    configured: truncated(&state.names().join(", ")),
                });
            };
            let slot = &mut state.consumers[index];
            if slot.live {
                return Err(Error::ConsumerBusy {
                    name: truncated(name),
                });
            }
            slot.removed = true;
            Arc::clone(&slot.cursor_write)
        };
        // A cursor write in progress finishes before the file is deleted.
        let _serial = serial.lock().unwrap_or_else(PoisonError::into_inner);
        cursor::remove(&core.dir, name)?;
        dir::sync(&core.dir)?;
        tracing::info!(consumer = %name, "removed buffer consumer and its cursor");
        gc::delete_passed_segments(core, gc::Removal::Here);
        Ok(())
    }

    pub(crate) fn stats(&self) -> Stats {
        self.inner.core.stats()
    }

    pub(crate) async fn close(&self) -> Result<(), Error> {
        let core = Arc::clone(&self.inner.core);
        let (done, finished) = oneshot::channel();
        let sent = {
            let mut state = core.lock_state();
            state.closed = true;
            state
                .sender
                .take()
                .is_some_and(|sender| sender.send(Command::Close(done)).is_ok())
        };
        if sent {
            let _ = finished.await;
        }
        let writer = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let persisted = tokio::task::spawn_blocking(move || {
            join_logged(writer, "buffer writer");
            let count = core.lock_state().consumers.len();
            let result = (0..count).try_for_each(|i| core.persist_cursor(i, true));
            core.reclaimer.finish();
            core.commits.send_modify(|_| {});
            result
        })
        .await;
        persisted.unwrap_or_else(|e| {
            Err(Error::io(
                "join close task in",
                &self.inner.core.dir,
                std::io::Error::other(e),
            ))
        })
    }
}
