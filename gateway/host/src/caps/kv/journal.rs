//! The embedded kv's append-only journal.
//!
//! File layout: the 8-byte magic `SLUICEKV`, a `u32` version, then records, each
//! `u32 body_len | u32 crc32(body) | body` (little-endian). A body is a tag byte and its
//! fields: `1 | u32 key_len | key | value` (set) or
//! `2 | u32 ns_len | ns | u32 key_len | key | u64 id` (id assigned). One write call
//! appends all records of one kv call, then `fdatasync`s; on open, the first record that
//! is short or fails its checksum (a torn write) ends the journal and is cut off.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::caps::CapabilityError;

const MAGIC: &[u8; 8] = b"SLUICEKV";
const VERSION: u32 = 1;
const HEADER: usize = MAGIC.len() + 4;
const TAG_SET: u8 = 1;
const TAG_ID: u8 = 2;
/// A journal this many times the size of its live data (and past [`COMPACT_MIN`]) is
/// rewritten on open.
const COMPACT_RATIO: u64 = 4;
const COMPACT_MIN: u64 = 1 << 20;

/// One journaled write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Record {
    /// `key` now holds `value`.
    Set { key: String, value: Vec<u8> },
    /// `key` got `id` in `namespace`.
    Id {
        namespace: String,
        key: String,
        id: u64,
    },
}

/// Bytes [`encode`] writes for a [`Record::Set`].
pub(super) fn set_len(key: &str, value: &[u8]) -> u64 {
    (8 + 1 + 4 + key.len() + value.len()) as u64
}

/// Bytes [`encode`] writes for a [`Record::Id`].
pub(super) fn id_len(namespace: &str, key: &str) -> u64 {
    (8 + 1 + 4 + namespace.len() + 4 + key.len() + 8) as u64
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    file: File,
    /// The exclusive lock on `<path>.lock`, held while the journal is open: two
    /// processes appending to (or compacting) one journal would lose writes.
    lock: File,
    /// Bytes in the file.
    len: u64,
    /// Reused encoding buffer, so an append allocates nothing once warm.
    scratch: Vec<u8>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CapabilityError + '_ {
    move |source| CapabilityError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Journal {
    /// Opens or creates the journal at `path`, feeding every intact record to `apply`.
    pub(super) fn open(
        path: &Path,
        mut apply: impl FnMut(Record),
    ) -> Result<Self, CapabilityError> {
        let lock = lock(path)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err(path))?;
        if bytes.is_empty() {
            let mut header = MAGIC.to_vec();
            header.extend_from_slice(&VERSION.to_le_bytes());
            file.write_all(&header).map_err(io_err(path))?;
            file.sync_all().map_err(io_err(path))?;
            sync_parent(path)?;
            return Ok(Self {
                path: path.to_owned(),
                file,
                lock,
                len: HEADER as u64,
                scratch: Vec::new(),
            });
        }
        if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CapabilityError::Corrupt {
                path: path.to_owned(),
                reason: "not a Sluice kv journal".into(),
            });
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != VERSION {
            return Err(CapabilityError::Corrupt {
                path: path.to_owned(),
                reason: format!("kv journal version {version}, this build reads {VERSION}"),
            });
        }
        let mut pos = HEADER;
        while let Some((record, next)) = decode(&bytes, pos) {
            apply(record);
            pos = next;
        }
        if pos < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                kept = pos,
                cut = bytes.len() - pos,
                "kv journal ends in a torn or corrupt record; cutting it off"
            );
            file.set_len(pos as u64).map_err(io_err(path))?;
            file.sync_all().map_err(io_err(path))?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            lock,
            len: pos as u64,
            scratch: Vec::new(),
        })
    }

    /// Appends `records` durably (one write, one `fdatasync`).
    pub(super) fn append(&mut self, records: &[Record]) -> Result<(), CapabilityError> {
        self.scratch.clear();
        for record in records {
            encode(record, &mut self.scratch);
        }
        let result = self
            .file
            .write_all(&self.scratch)
            .and_then(|()| self.file.sync_data());
        if let Err(source) = result {
            // Leave no half-written records behind for the next append to follow.
            let _ = self.file.set_len(self.len);
            return Err(CapabilityError::Io {
                path: self.path.clone(),
                source,
            });
        }
        self.len += self.scratch.len() as u64;
        Ok(())
    }

    /// Whether the journal is much larger than a snapshot of `live_bytes` of records.
    pub(super) fn is_wasteful(&self, live_bytes: u64) -> bool {
        let snapshot = HEADER as u64 + live_bytes;
        self.len > COMPACT_MIN && self.len > snapshot.saturating_mul(COMPACT_RATIO)
    }

    /// Rewrites the journal as `records` (a snapshot of the live data): written to a
    /// temporary file, synced, renamed over the journal.
    pub(super) fn compact(self, records: Vec<Record>) -> Result<Self, CapabilityError> {
        let path = self.path;
        let tmp = path.with_extension("journal.compacting");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        for record in &records {
            encode(record, &mut bytes);
        }
        {
            let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
            out.write_all(&bytes).map_err(io_err(&tmp))?;
            out.sync_all().map_err(io_err(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        sync_parent(&path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        tracing::info!(path = %path.display(), from = self.len, to = bytes.len(), "compacted kv journal");
        Ok(Self {
            path,
            file,
            lock: self.lock,
            len: bytes.len() as u64,
            scratch: Vec::new(),
        })
    }
}

/// Takes the exclusive lock on `<journal>.lock` (a file of its own: compaction replaces
/// the journal's file, and with it any lock held on it).
fn lock(journal: &Path) -> Result<File, CapabilityError> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(CapabilityError::Locked { path }),
        Err(TryLockError::Error(source)) => Err(CapabilityError::Io { path, source }),
    }
}

fn sync_parent(path: &Path) -> Result<(), CapabilityError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode(record: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    match record {
        Record::Set { key, value } => {
            out.push(TAG_SET);
            put_str(out, key);
            out.extend_from_slice(value);
        }
        Record::Id { namespace, key, id } => {
            out.push(TAG_ID);
            put_str(out, namespace);
            put_str(out, key);
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    let body = &out[start + 8..];
    let len = (body.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(body).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&crc);
}

/// A little cursor over a record body.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

/// The record at `pos` and where the next one starts; `None` at the end or at a torn or
/// corrupt record.
fn decode(bytes: &[u8], pos: usize) -> Option<(Record, usize)> {
    let mut frame = Cursor(bytes.get(pos..)?);
    let len = frame.u32()? as usize;
    let crc = frame.u32()?;
    let body = frame.take(len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let mut c = Cursor(body);
    let record = match c.take(1)?[0] {
        TAG_SET => {
            let key = c.string()?;
            Record::Set {
                key,
                value: c.0.to_vec(),
            }
        }
        TAG_ID => {
            let namespace = c.string()?;
            let key = c.string()?;
            let id = u64::from_le_bytes(c.take(8)?.try_into().ok()?);
            Record::Id { namespace, key, id }
        }
        _ => return None,
    };
    Some((record, pos + 8 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(path: &Path) -> (Journal, Vec<Record>) {
        let mut seen = Vec::new();
        let j = Journal::open(path, |r| seen.push(r)).unwrap();
        (j, seen)
    }

    fn sample() -> Vec<Record> {
        vec![
            Record::Set {
                key: "k".into(),
                value: b"v".to_vec(),
            },
            Record::Id {
                namespace: "ns".into(),
                key: "GET /".into(),
                id: 7,
            },
        ]
    }

    #[test]
    fn records_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        let (mut j, seen) = replay(&path);
        assert!(seen.is_empty());
        j.append(&sample()).unwrap();
        drop(j);
        let (_, seen) = replay(&path);
        assert_eq!(seen, sample());
    }

    #[test]
    fn a_torn_tail_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        let (mut j, _) = replay(&path);
        j.append(&sample()).unwrap();
        drop(j);
        let full = std::fs::metadata(&path).unwrap().len();
        // A crash in the middle of the second record.
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(full - 3)
            .unwrap();
        let (mut j, seen) = replay(&path);
        assert_eq!(seen, sample()[..1]);
        j.append(&sample()[1..]).unwrap();
        drop(j);
        assert_eq!(replay(&path).1, sample());
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        std::fs::write(&path, b"hello world, not a journal").unwrap();
        let err = Journal::open(&path, |_| {}).unwrap_err();
        assert!(err.to_string().contains("not a Sluice kv journal"), "{err}");
    }

    #[test]
    fn compaction_keeps_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        let (mut j, _) = replay(&path);
        j.append(&sample()).unwrap();
        let j = j.compact(sample()[1..].to_vec()).unwrap();
        drop(j);
        assert_eq!(replay(&path).1, sample()[1..]);
    }

    #[test]
    fn a_second_opener_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        let (j, _) = replay(&path);
        let j = j.compact(sample()).unwrap();
        let err = Journal::open(&path, |_| {}).unwrap_err();
        assert!(
            matches!(&err, CapabilityError::Locked { path: p } if p.ends_with("kv.journal.lock")),
            "{err:?}"
        );
        drop(j);
        assert_eq!(replay(&path).1, sample());
    }
}
