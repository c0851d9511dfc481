//! The writer thread: many appends, one `fdatasync`.
//!
//! `append` reserves space, sends its record here and waits on a oneshot. The thread takes
//! everything queued, writes it with one vectored write per segment, syncs once, publishes the
//! new head to consumers, and only then completes the oneshots — so `Ok` means durable, and
//! concurrent appends share the cost of the sync.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use crate::Record;
use tokio::sync::oneshot;

use super::frame::{self, FRAME_HEADER_LEN};
use super::segment::{self, SEGMENT_HEADER_LEN};
use super::state::SegmentMeta;
use super::{Core, dir, gc};
use crate::{Error, Position};

/// Most bytes taken into one group commit, so one huge backlog cannot delay every append.
const MAX_GROUP_BYTES: u64 = 64 * 1024 * 1024;

/// What the writer thread is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Write and sync a record, then answer.
    Append(PendingAppend),
    /// Finish everything sent before, then answer and stop.
    Close(oneshot::Sender<()>),
}

/// One record waiting for its group commit.
#[derive(Debug)]
pub(crate) struct PendingAppend {
    /// The record.
    pub(crate) record: Record,
    /// Bytes reserved for it in `State::reserved`, released when it is written or fails.
    pub(crate) reservation: u64,
    /// Answered once the record is durable (or failed).
    pub(crate) done: oneshot::Sender<Result<(), Error>>,
}

/// The segment being written.
#[derive(Debug)]
pub(crate) struct ActiveSegment {
    /// Its id.
    pub(crate) id: u64,
    /// Opened for reading and writing.
    pub(crate) file: File,
    /// Its path, for errors.
    pub(crate) path: PathBuf,
    /// Offset just past the last record written.
    pub(crate) len: u64,
}

/// Starts the writer thread.
pub(crate) fn spawn(
    core: Arc<Core>,
    commands: Receiver<Command>,
    active: ActiveSegment,
) -> Result<JoinHandle<()>, Error> {
    let dir = core.dir.clone();
    std::thread::Builder::new()
        .name("sluice-buffer-writer".to_owned())
        .spawn(move || Writer { core, active }.run(&commands))
        .map_err(|e| Error::io("spawn writer thread for", &dir, e))
}

struct Writer {
    core: Arc<Core>,
    active: ActiveSegment,
}

impl Writer {
    fn run(mut self, commands: &Receiver<Command>) {
        while let Ok(command) = commands.recv() {
            let mut group = Vec::new();
            let mut group_bytes = 0;
            let mut close = None;
            let mut next = Some(command);
            while let Some(command) = next.take() {
                match command {
                    Command::Append(append) => {
                        group_bytes += append.record.len() as u64;
                        group.push(append);
                    }
                    Command::Close(done) => close = Some(done),
                }
                if close.is_none() && group_bytes < MAX_GROUP_BYTES {
                    next = commands.try_recv().ok();
                }
            }
            self.commit(group);
            if let Some(done) = close {
                let _ = done.send(());
                return;
            }
        }
    }

    /// Writes a group, rolling over to new segments where needed. The appends are answered
    /// last, so that when `append` returns the queue's state already reflects any roll-over.
    fn commit(&mut self, group: Vec<PendingAppend>) {
        if group.is_empty() {
            return;
        }
        let failed = self.core.lock_state().failed.clone();
        if let Some(reason) = failed {
            self.fail(group, &Error::WriterFailed { reason });
            return;
        }
        let mut durable = Vec::new();
        let mut chunk = Vec::new();
        let mut planned = self.active.len;
        let mut rest = group.into_iter();
        while let Some(append) = rest.next() {
            let frame_len = FRAME_HEADER_LEN + append.record.len() as u64;
            if planned > SEGMENT_HEADER_LEN && planned + frame_len > self.core.segment_size {
                let rolled = self
                    .write_chunk(std::mem::take(&mut chunk))
                    .and_then(|written| {
                        durable.extend(written);
                        self.roll()
                    });
                if let Err(error) = rolled {
                    self.fail(std::iter::once(append).chain(rest), &error);
                    answer(durable);
                    return;
                }
                planned = self.active.len;
            }
            planned += frame_len;
            chunk.push(append);
        }
        if let Ok(written) = self.write_chunk(chunk) {
            durable.extend(written);
            if self.active.len >= self.core.segment_size {
                // Seal a full segment now, so that it can be deleted as soon as it is
                // acknowledged. A failure poisons the queue; these records are durable anyway.
                let _ = self.roll();
            }
        }
        answer(durable);
    }

    /// Writes and syncs records into the active segment and publishes them to consumers;
    /// returns the answers to send. A failure answers the chunk's appends itself.
    fn write_chunk(
        &mut self,
        chunk: Vec<PendingAppend>,
    ) -> Result<Vec<oneshot::Sender<Result<(), Error>>>, Error> {
        if chunk.is_empty() {
            return Ok(Vec::new());
        }
        let start = self.active.len;
        match self.write_and_sync(&chunk) {
            Ok(written) => {
                let reserved: u64 = chunk.iter().map(|a| a.reservation).sum();
                let end = start + written;
                let head = {
                    let mut state = self.core.lock_state();
                    let head = Position {
                        segment: self.active.id,
                        offset: end,
                        seq: state.head.seq + chunk.len() as u64,
                    };
                    if let Some(meta) = state.segments.get_mut(&self.active.id) {
                        meta.end = end;
                        meta.file_len = end;
                        meta.end_seq = head.seq;
                    }
                    state.head = head;
                    state.retained += written;
                    state.reserved = state.reserved.saturating_sub(reserved);
                    head
                };
                self.active.len = end;
                self.core.commits.send_replace(head.seq);
                Ok(chunk.into_iter().map(|append| append.done).collect())
            }
            Err(Failure { error, synced }) => {
                // A failed write is undone so the next one starts on a record boundary; if
                // even that fails, or the sync failed, nothing written later can be trusted.
                let undone = self.active.file.set_len(start).is_ok();
                if !undone || synced {
                    self.poison(&error);
                }
                self.fail(chunk, &error);
                Err(error)
            }
        }
    }

    fn write_and_sync(&mut self, chunk: &[PendingAppend]) -> Result<u64, Failure> {
        let path = &self.active.path;
        let headers: Vec<[u8; 8]> = chunk
            .iter()
            .map(|a| frame::header_of_parts(&a.record.parts()))
            .collect();
        let mut slices: Vec<IoSlice<'_>> = headers
            .iter()
            .zip(chunk)
            .flat_map(|(header, append)| {
                let [head, tail] = append.record.parts();
                [IoSlice::new(header), IoSlice::new(head), IoSlice::new(tail)]
            })
            .collect();
        let total: u64 = slices.iter().map(|s| s.len() as u64).sum();
        let file = &mut self.active.file;
        file.seek(SeekFrom::Start(self.active.len))
            .map_err(|e| Failure::write("seek", path, e))?;
        #[cfg(test)]
        if let Some(failure) = self.core.faults.take(path) {
            return Err(failure);
        }
        let mut remaining = &mut slices[..];
        while !remaining.is_empty() {
            match file.write_vectored(remaining) {
                Ok(0) => {
                    let e = std::io::Error::new(std::io::ErrorKind::WriteZero, "wrote 0 bytes");
                    return Err(Failure::write("write", path, e));
                }
                Ok(n) => IoSlice::advance_slices(&mut remaining, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::write("write", path, e)),
            }
        }
        file.sync_data().map_err(|e| Failure::sync(path, e))?;
        Ok(total)
    }

    /// Seals the active segment and starts the next one, then deletes segments every consumer
    /// has passed (the one just sealed may be among them).
    fn roll(&mut self) -> Result<(), Error> {
        let id = self.active.id.saturating_add(1);
        let created = create_segment(&self.core.dir, id);
        let (file, path) = match created {
            Ok(created) => created,
            Err(error) => {
                self.poison(&error);
                return Err(error);
            }
        };
        {
            let mut state = self.core.lock_state();
            if let Some(meta) = state.segments.get_mut(&self.active.id) {
                meta.sealed = true;
            }
            let seq = state.head.seq;
            state.segments.insert(
                id,
                SegmentMeta {
                    end: SEGMENT_HEADER_LEN,
                    file_len: SEGMENT_HEADER_LEN,
                    first_seq: seq,
                    end_seq: seq,
                    sealed: false,
                },
            );
            state.retained += SEGMENT_HEADER_LEN;
            state.head = Position {
                segment: id,
                offset: SEGMENT_HEADER_LEN,
                seq,
            };
        }
        self.active = ActiveSegment {
            id,
            file,
            path,
            len: SEGMENT_HEADER_LEN,
        };
        gc::delete_passed_segments(&self.core, gc::Removal::Background);
        Ok(())
    }

    /// Refuses every later append until the queue is reopened.
    fn poison(&self, error: &Error) {
        tracing::error!(
            segment = self.active.id,
            error = %error,
            "buffer writer failed; appends are refused until the buffer is reopened"
        );
        let mut state = self.core.lock_state();
        if state.failed.is_none() {
            state.failed = Some(error.to_string());
        }
    }

    /// Answers appends with `error` and releases their reservations.
    fn fail(&self, appends: impl IntoIterator<Item = PendingAppend>, error: &Error) {
        let appends: Vec<_> = appends.into_iter().collect();
        let reserved: u64 = appends.iter().map(|a| a.reservation).sum();
        {
            let mut state = self.core.lock_state();
            state.reserved = state.reserved.saturating_sub(reserved);
        }
        for append in appends {
            let _ = append.done.send(Err(error.duplicate()));
        }
    }
}

/// Tells durable appends they are durable.
fn answer(durable: Vec<oneshot::Sender<Result<(), Error>>>) {
    for done in durable {
        let _ = done.send(Ok(()));
    }
}

/// A failed group write.
pub(crate) struct Failure {
    error: Error,
    /// The `fdatasync` itself failed: the page cache may have dropped the data.
    synced: bool,
}

impl Failure {
    pub(crate) fn sync(path: &std::path::Path, e: std::io::Error) -> Self {
        Self {
            error: Error::io("fdatasync", path, e),
            synced: true,
        }
    }

    pub(crate) fn write(op: &'static str, path: &std::path::Path, e: std::io::Error) -> Self {
        Self {
            error: Error::io(op, path, e),
            synced: false,
        }
    }
}

/// Creates segment `id` with its header, durable (file and directory synced).
pub(crate) fn create_segment(dir: &std::path::Path, id: u64) -> Result<(File, PathBuf), Error> {
    let path = dir.join(segment::file_name(id));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    file.write_all_at(&segment::encode_header(id), 0)
        .map_err(|e| Error::io("write", &path, e))?;
    file.sync_all().map_err(|e| Error::io("fsync", &path, e))?;
    dir::sync(dir)?;
    Ok((file, path))
}
