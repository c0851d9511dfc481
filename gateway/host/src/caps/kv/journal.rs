//! A reader for the journal the embedded kv kept before it moved to `redb` (read once,
//! by the one-time [migration](super::migrate); nothing writes this format any more).
//!
//! File layout: the 8-byte magic `SLUICEKV`, a `u32` version (1), then records, each
//! `u32 body_len | u32 crc32(body) | body` (little-endian). A body is a tag byte and its
//! fields: `1 | u32 key_len | key | value` (set) or
//! `2 | u32 ns_len | ns | u32 key_len | key | u64 id` (id assigned). The first record
//! that is short or fails its checksum (a write torn by a crash) ends the journal.

use std::path::Path;

use crate::caps::CapabilityError;

const MAGIC: &[u8; 8] = b"SLUICEKV";
const VERSION: u32 = 1;
const HEADER: usize = MAGIC.len() + 4;
const TAG_SET: u8 = 1;
const TAG_ID: u8 = 2;

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

/// What [`read`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Replay {
    /// Every intact record, in write order.
    pub(super) records: Vec<Record>,
    /// Bytes after the last intact record (a torn tail), ignored.
    pub(super) torn: usize,
}

/// The intact records of the journal at `path`. An empty file has none.
///
/// Errors: [`CapabilityError::Io`] if the file cannot be read,
/// [`CapabilityError::Corrupt`] if it is not a version-1 Sluice kv journal.
pub(super) fn read(path: &Path) -> Result<Replay, CapabilityError> {
    let bytes = std::fs::read(path).map_err(|source| CapabilityError::Io {
        path: path.to_owned(),
        source,
    })?;
    if bytes.is_empty() {
        return Ok(Replay::default());
    }
    let corrupt = |reason: String| CapabilityError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not a Sluice kv journal".into()));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != VERSION {
        return Err(corrupt(format!(
            "kv journal version {version}, this build reads {VERSION}"
        )));
    }
    let mut records = Vec::new();
    let mut pos = HEADER;
    while let Some((record, next)) = decode(&bytes, pos) {
        records.push(record);
        pos = next;
    }
    Ok(Replay {
        records,
        torn: bytes.len() - pos,
    })
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

/// The old writer, kept for tests only: journal bytes (header and `records`) exactly as
/// the pre-`redb` embedded kv wrote them.
#[cfg(test)]
pub(super) fn encode_journal(records: &[Record]) -> Vec<u8> {
    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    for record in records {
        let start = out.len();
        out.extend_from_slice(&[0; 8]);
        match record {
            Record::Set { key, value } => {
                out.push(TAG_SET);
                put_str(&mut out, key);
                out.extend_from_slice(value);
            }
            Record::Id { namespace, key, id } => {
                out.push(TAG_ID);
                put_str(&mut out, namespace);
                put_str(&mut out, key);
                out.extend_from_slice(&id.to_le_bytes());
            }
        }
        let body = &out[start + 8..];
        let len = (body.len() as u32).to_le_bytes();
        let crc = crc32fast::hash(body).to_le_bytes();
        out[start..start + 4].copy_from_slice(&len);
        out[start + 4..start + 8].copy_from_slice(&crc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn records_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        std::fs::write(&path, encode_journal(&sample())).unwrap();
        let replay = read(&path).unwrap();
        assert_eq!(replay.records, sample());
        assert_eq!(replay.torn, 0);
    }

    #[test]
    fn a_torn_tail_ends_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        let bytes = encode_journal(&sample());
        // A crash in the middle of the second record.
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let replay = read(&path).unwrap();
        assert_eq!(replay.records, sample()[..1]);
        assert!(replay.torn > 0);
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.journal");
        std::fs::write(&path, b"hello world, not a journal").unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("not a Sluice kv journal"), "{err}");
    }
}
