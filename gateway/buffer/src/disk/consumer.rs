//! One consumer's view of a disk queue: wait for records, read them, acknowledge them.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use super::frame::{self, Decoded, FRAME_HEADER_LEN};
use super::state::ReadPlan;
use super::{Core, gc, segment};
use crate::error::truncated;
use crate::position::LogEntry;
use crate::{Error, Position};

/// Bytes read per call at least (when that much is committed), so small records cost one read.
const MIN_READ: u64 = 64 * 1024;
/// Bytes read per call at most, unless a single record is larger.
const MAX_READ: u64 = 16 * 1024 * 1024;

/// A consumer of a disk queue.
pub(crate) struct DiskConsumer {
    core: Arc<Core>,
    index: usize,
    /// Position just past the last record handed out by `next`.
    read: Position,
    commits: watch::Receiver<u64>,
    /// The segment last read from, kept open.
    file: Option<(u64, Arc<File>)>,
}

impl Drop for DiskConsumer {
    fn drop(&mut self) {
        if let Some(slot) = self.core.lock_state().consumers.get_mut(self.index) {
            slot.live = false;
        }
    }
}

/// What a blocking read brought back.
struct ReadOutcome {
    file: Arc<File>,
    entries: Vec<LogEntry>,
    /// Set when the first record at the planned position failed its checks.
    corrupt_at: Option<u64>,
}

impl DiskConsumer {
    /// Claims consumer `index`; it starts after its last acknowledged record.
    pub(crate) fn new(core: Arc<Core>, index: usize) -> Result<Self, Error> {
        let read = {
            let mut state = core.lock_state();
            let slot = state.consumers.get_mut(index).ok_or(Error::Closed)?;
            if slot.live {
                return Err(Error::ConsumerBusy {
                    name: truncated(&slot.name),
                });
            }
            slot.live = true;
            slot.acked
        };
        let commits = core.commits.subscribe();
        Ok(Self {
            core,
            index,
            read,
            commits,
            file: None,
        })
    }

    /// See `Consumer::next`. Cancel-safe: `self.read` only moves once the records are in hand.
    pub(crate) async fn next(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        loop {
            let plan = self.wait_for_records().await?;
            let file = match &self.file {
                Some((id, file)) if *id == plan.segment => Some(Arc::clone(file)),
                _ => None,
            };
            let path = self.core.dir.join(segment::file_name(plan.segment));
            let outcome = tokio::task::spawn_blocking(move || {
                read_records(file, &path, plan, max_records.max(1), max_bytes)
            })
            .await
            .map_err(|e| {
                Error::io(
                    "join read task for",
                    &self.core.dir,
                    std::io::Error::other(e),
                )
            })??;
            self.file = Some((plan.segment, outcome.file));
            if let Some(last) = outcome.entries.last() {
                self.read = last.pos;
                return Ok(outcome.entries);
            }
            let at = outcome.corrupt_at.unwrap_or(plan.start);
            let (skip_to, name) = {
                let state = self.core.lock_state();
                let name = state
                    .consumers
                    .get(self.index)
                    .map(|slot| slot.name.clone());
                (state.end_of_segment(plan.segment), name.unwrap_or_default())
            };
            tracing::error!(
                consumer = %name,
                segment = plan.segment,
                at,
                "corrupt record while reading the buffer; skipping the rest of the segment (data loss)"
            );
            match skip_to {
                Some(position) if position > self.read => self.read = position,
                _ => {
                    let path = self.core.dir.join(segment::file_name(plan.segment));
                    let reason = format!("corrupt record at offset {at} cannot be skipped");
                    return Err(Error::io("read", &path, std::io::Error::other(reason)));
                }
            }
        }
    }

    /// Waits until something is committed past `self.read`.
    async fn wait_for_records(&mut self) -> Result<ReadPlan, Error> {
        loop {
            self.commits.borrow_and_update();
            {
                let state = self.core.lock_state();
                if let Some(plan) = state.read_plan(self.read) {
                    return Ok(plan);
                }
                if state.closed {
                    return Err(Error::Closed);
                }
            }
            self.commits.changed().await.map_err(|_| Error::Closed)?;
        }
    }

    /// See `Consumer::ack`.
    pub(crate) async fn ack(&mut self, pos: Position) -> Result<(), Error> {
        {
            let mut state = self.core.lock_state();
            let head = state.head;
            if pos > head {
                return Err(Error::AckBeyondHead { pos, head });
            }
            let Some(slot) = state.consumers.get_mut(self.index) else {
                return Ok(());
            };
            if pos <= slot.acked {
                return Ok(());
            }
            slot.acked = pos;
        }
        if self.read < pos {
            self.read = pos;
        }
        let core = Arc::clone(&self.core);
        let index = self.index;
        let persisted = tokio::task::spawn_blocking(move || {
            core.persist_cursor(index, false)?;
            gc::delete_passed_segments(&core, gc::Removal::Here);
            Ok(())
        })
        .await
        .map_err(|e| {
            Error::io(
                "join ack task for",
                &self.core.dir,
                std::io::Error::other(e),
            )
        })?;
        // Let go of a deleted segment, so that its space is really freed.
        if let Some(cached) = self.file.as_ref().map(|(id, _)| *id) {
            let deleted = !self.core.lock_state().segments.contains_key(&cached);
            if deleted {
                self.file = None;
            }
        }
        persisted
    }
}

/// Reads up to `max_records` records totalling at most `max_bytes` (at least one) from the
/// committed range in `plan`. Blocking.
fn read_records(
    file: Option<Arc<File>>,
    path: &std::path::Path,
    plan: ReadPlan,
    max_records: usize,
    max_bytes: usize,
) -> Result<ReadOutcome, Error> {
    let file = match file {
        Some(file) => file,
        None => Arc::new(File::open(path).map_err(|e| Error::io("open", path, e))?),
    };
    let available = plan.end.saturating_sub(plan.start);
    let wanted = (max_bytes as u64)
        .saturating_add(FRAME_HEADER_LEN.saturating_mul(max_records as u64))
        .clamp(MIN_READ, MAX_READ);
    let chunk = read_at(&file, path, plan.start, available.min(wanted))?;
    let mut entries = Vec::new();
    let mut offset = 0u64;
    let mut payload_bytes = 0usize;
    let mut corrupt_at = None;
    while entries.len() < max_records && plan.start + offset < plan.end {
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let rest = chunk.get(at..).unwrap_or_default();
        let frame = match frame::decode(rest) {
            Decoded::Record { frame_len } => {
                chunk.slice(at..at + usize::try_from(frame_len).unwrap_or(usize::MAX))
            }
            Decoded::Incomplete {
                frame_len: Some(frame_len),
            } if entries.is_empty() && frame_len <= available => {
                // One record larger than the read window: read exactly that record.
                let whole = read_at(&file, path, plan.start, frame_len)?;
                if !matches!(frame::decode(&whole), Decoded::Record { .. }) {
                    corrupt_at = Some(plan.start);
                    break;
                }
                whole
            }
            // The window ends inside a record: the next call starts there.
            Decoded::Incomplete { .. } if !entries.is_empty() => break,
            // Committed bytes that do not hold a valid record; reported when first in line.
            Decoded::Incomplete { .. } | Decoded::Corrupt { .. } => {
                corrupt_at = entries.is_empty().then_some(plan.start + offset);
                break;
            }
        };
        let payload = frame.slice(FRAME_HEADER_LEN as usize..);
        if !entries.is_empty() && payload_bytes.saturating_add(payload.len()) > max_bytes {
            break;
        }
        payload_bytes = payload_bytes.saturating_add(payload.len());
        offset += frame.len() as u64;
        entries.push(LogEntry {
            pos: Position {
                segment: plan.segment,
                offset: plan.start + offset,
                seq: plan.seq + entries.len() as u64 + 1,
            },
            data: payload,
        });
    }
    Ok(ReadOutcome {
        file,
        entries,
        corrupt_at,
    })
}

fn read_at(file: &File, path: &std::path::Path, offset: u64, len: u64) -> Result<Bytes, Error> {
    let len = usize::try_from(len).map_err(|_| {
        Error::io(
            "read",
            path,
            std::io::Error::other("record larger than memory"),
        )
    })?;
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(Bytes::from(buf))
}
