//! [`Journal`]: one append-only file of framed records in a locked directory, for state
//! that lives in memory and must survive a `kill -9` (the relay's merge windows).
//!
//! Records use the disk queue's framing (`[len: u32 LE][crc32(len ‖ payload): u32 LE]
//! [payload]`). [`Journal::open`] reads every whole record and cuts a torn or corrupt tail
//! off (what a crash mid-append leaves); [`Journal::append`] writes to the OS and returns
//! a [`SyncPoint`] to wait on outside the caller's locks: one `fdatasync` covers every
//! append before it, and appends that wait together share it (group commit);
//! [`Journal::rewrite`] replaces the whole file with a compact picture (write,
//! `fdatasync`, rename, sync the directory): a crash leaves the old file or the new one,
//! never half of either.
//!
//! On disk: `{dir}/journal.log`, `{dir}/journal.log.tmp` while a rewrite is under way
//! (removed on open), `{dir}/LOCK` held while the journal is open.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use crate::Error;
use crate::disk::dir;
use crate::disk::frame::{self, Decoded, FRAME_HEADER_LEN, MAX_PAYLOAD_LEN};

/// The journal's file name in its directory.
const FILE: &str = "journal.log";
/// A rewrite's file until it is renamed over [`FILE`].
const TMP: &str = "journal.log.tmp";

/// An open journal (see the [module](self)).
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    file: Arc<File>,
    /// Bytes in the file.
    len: u64,
    /// Set when a failed append could not be cut back off: appends are refused until a
    /// [`Journal::rewrite`] succeeds.
    broken: Option<String>,
    /// Shared with every [`SyncPoint`].
    sync: Arc<GroupSync>,
    /// Held for as long as the journal is open.
    _lock: File,
}

/// The group commit: whoever syncs first syncs for everyone appended before.
#[derive(Debug)]
struct GroupSync {
    /// Bytes ever appended (across rewrites): what a sync started now covers.
    appended: AtomicU64,
    /// The file to sync and how many of [`GroupSync::appended`] are on disk; held while
    /// syncing, so that those who queue behind find their bytes synced.
    state: Mutex<(Arc<File>, u64)>,
}

/// An append to wait for ([`SyncPoint::wait`]) before acknowledging it.
#[derive(Debug)]
pub struct SyncPoint {
    sync: Arc<GroupSync>,
    /// [`GroupSync::appended`] just after the append.
    upto: u64,
}

impl SyncPoint {
    /// Blocks until the append is on disk: `fdatasync`s the journal unless a sync that
    /// started after the append already did. Run it off the async runtime.
    ///
    /// Errors: the `fdatasync` failed (the append must not be acknowledged).
    pub fn wait(self) -> std::io::Result<()> {
        let mut state = self
            .sync
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if state.1 >= self.upto {
            return Ok(());
        }
        let target = self.sync.appended.load(Ordering::Acquire);
        state.0.sync_data()?;
        state.1 = state.1.max(target);
        Ok(())
    }
}

/// What [`Journal::open`] found.
#[derive(Debug, Default)]
pub struct Replay {
    /// The payloads of the whole records, oldest first.
    pub records: Vec<Bytes>,
    /// Bytes cut off the end: a torn or corrupt tail.
    pub truncated: u64,
}

impl Journal {
    /// Opens (creating) the journal in `dir` and reads it back.
    ///
    /// Errors: [`Error::Locked`] when another journal holds `dir`; [`Error::Io`].
    pub fn open(dir: &Path) -> Result<(Self, Replay), Error> {
        let lock = dir::lock(dir)?;
        let path = dir.join(FILE);
        dir::remove_if_exists(&dir.join(TMP)).map_err(|e| Error::io("remove", dir, e))?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", &path, e))?;
        let bytes = Bytes::from(bytes);
        let mut replay = Replay::default();
        let mut at = 0usize;
        while at < bytes.len() {
            let Decoded::Record { frame_len } = frame::decode(&bytes[at..]) else {
                break;
            };
            let end = at + usize::try_from(frame_len).unwrap_or(usize::MAX);
            replay
                .records
                .push(bytes.slice(at + FRAME_HEADER_LEN as usize..end));
            at = end;
        }
        let len = at as u64;
        replay.truncated = bytes.len() as u64 - len;
        if replay.truncated > 0 {
            file.set_len(len)
                .and_then(|()| file.sync_data())
                .map_err(|e| Error::io("truncate", &path, e))?;
        }
        // Appends go to the end whatever the read position; this keeps `len` honest.
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::io("seek", &path, e))?;
        let file = Arc::new(file);
        Ok((
            Self {
                dir: dir.to_path_buf(),
                path,
                file: Arc::clone(&file),
                len,
                broken: None,
                sync: Arc::new(GroupSync {
                    appended: AtomicU64::new(0),
                    state: Mutex::new((file, 0)),
                }),
                _lock: lock,
            },
            replay,
        ))
    }

    /// Bytes in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one record made of `parts` back to back; it is in the OS (it survives the
    /// process) when this returns, on disk once the returned [`SyncPoint`] was waited
    /// for.
    ///
    /// Errors: [`Error::RecordTooLarge`] beyond 4 GiB; [`Error::Io`]: the record is cut
    /// back off the file, and if even that fails every later append is refused
    /// ([`Error::WriterFailed`]) until a [`Journal::rewrite`] succeeds, so that no record
    /// lands behind a torn one (which the next open would cut off with it).
    pub fn append(&mut self, parts: &[&[u8]]) -> Result<SyncPoint, Error> {
        if let Some(reason) = &self.broken {
            return Err(Error::WriterFailed {
                reason: reason.clone(),
            });
        }
        let frame = framed(parts)?;
        if let Err(e) = (&*self.file).write_all(&frame) {
            if let Err(cut) = self.file.set_len(self.len) {
                self.broken = Some(format!(
                    "append to {:?} failed ({e}) and the torn record could not be cut off ({cut})",
                    self.path
                ));
            }
            return Err(Error::io("append", &self.path, e));
        }
        self.len += frame.len() as u64;
        let upto = self
            .sync
            .appended
            .fetch_add(frame.len() as u64, Ordering::AcqRel)
            + frame.len() as u64;
        Ok(SyncPoint {
            sync: Arc::clone(&self.sync),
            upto,
        })
    }

    /// Replaces the journal with `records` (each one record's payload), durably.
    ///
    /// Errors: [`Error::RecordTooLarge`], [`Error::Io`]. Before the rename the old journal
    /// stays in place and in use; after it (a failed directory sync) the new one is in
    /// use, and only the rename's durability is in doubt.
    pub fn rewrite<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), Error> {
        let tmp = self.dir.join(TMP);
        let mut out = Vec::new();
        for record in records {
            out.extend_from_slice(&framed(&[record])?);
        }
        dir::remove_if_exists(&tmp).map_err(|e| Error::io("remove", &tmp, e))?;
        // Opened for appending: once renamed it is the journal, appended to as it is.
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&tmp)
            .map_err(|e| Error::io("create", &tmp, e))?;
        file.write_all(&out)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io("rename", &tmp, e))?;
        // The renamed file is the journal from here on, whatever fails next.
        let file = Arc::new(file);
        {
            let mut state = self
                .sync
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.0 = Arc::clone(&file);
            state.1 = self.sync.appended.load(Ordering::Acquire);
        }
        self.file = file;
        self.len = out.len() as u64;
        self.broken = None;
        dir::sync(&self.dir)
    }
}

/// `parts` framed as one record.
fn framed(parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len as u64 > MAX_PAYLOAD_LEN {
        return Err(Error::RecordTooLarge {
            len: len as u64,
            max: MAX_PAYLOAD_LEN,
        });
    }
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN as usize + len);
    out.extend_from_slice(&frame::header_of_parts(parts));
    for part in parts {
        out.extend_from_slice(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(replay: &Replay) -> Vec<&[u8]> {
        replay.records.iter().map(|r| &r[..]).collect()
    }

    #[test]
    fn appends_and_rewrites_come_back_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, replay) = Journal::open(dir.path()).unwrap();
        assert!(replay.records.is_empty() && journal.is_empty());
        journal.append(&[b"a", b"bc"]).unwrap();
        let first = journal.append(&[b""]).unwrap();
        first.wait().unwrap();
        drop(journal);
        let (mut journal, replay) = Journal::open(dir.path()).unwrap();
        assert_eq!(payloads(&replay), [&b"abc"[..], b""]);
        journal.rewrite([&b"x"[..], b"yz"]).unwrap();
        journal.append(&[b"after"]).unwrap();
        assert_eq!(journal.len(), 9 + 10 + 13);
        drop(journal);
        let (_journal, replay) = Journal::open(dir.path()).unwrap();
        assert_eq!(payloads(&replay), [&b"x"[..], b"yz", b"after"]);
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_appends_go_after_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        journal.append(&[b"whole"]).unwrap();
        drop(journal);
        let path = dir.path().join(FILE);
        let mut torn = framed(&[b"torn record"]).unwrap();
        torn.truncate(torn.len() - 3);
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&torn)
            .unwrap();
        let (mut journal, replay) = Journal::open(dir.path()).unwrap();
        assert_eq!(payloads(&replay), [&b"whole"[..]]);
        assert_eq!(replay.truncated, torn.len() as u64);
        journal.append(&[b"next"]).unwrap();
        drop(journal);
        let (_journal, replay) = Journal::open(dir.path()).unwrap();
        assert_eq!(payloads(&replay), [&b"whole"[..], b"next"]);
    }

    #[test]
    fn a_second_journal_on_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_journal, _) = Journal::open(dir.path()).unwrap();
        assert!(matches!(
            Journal::open(dir.path()),
            Err(Error::Locked { .. })
        ));
    }
}
