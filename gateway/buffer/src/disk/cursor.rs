//! Cursor files: where each consumer resumes after a restart.
//!
//! `cursor-{consumer}.pos` holds `[magic "SLCP"][version: u32 LE][segment: u64 LE]`
//! `[offset: u64 LE][crc32 of the 24 bytes before: u32 LE]`: the position just past the last
//! record the consumer acknowledged. It is replaced atomically (write
//! `cursor-{consumer}.pos.tmp`, then rename). Acks do not `fsync` it: after a power loss a
//! cursor may be older than the last ack, which only re-delivers records; `close` does sync.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::dir;
use crate::Error;

const MAGIC: [u8; 4] = *b"SLCP";
const VERSION: u32 = 1;
const LEN: usize = 28;
const PREFIX: &str = "cursor-";
const SUFFIX: &str = ".pos";
const TEMPORARY_SUFFIX: &str = ".pos.tmp";

/// File name of `consumer`'s cursor.
pub(crate) fn file_name(consumer: &str) -> String {
    format!("{PREFIX}{consumer}{SUFFIX}")
}

/// The consumer whose cursor file this is, if it is one.
pub(crate) fn parse_file_name(name: &str) -> Option<&str> {
    let consumer = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    (!consumer.is_empty()).then_some(consumer)
}

/// True for a leftover of an interrupted cursor write.
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with(PREFIX) && name.ends_with(TEMPORARY_SUFFIX)
}

fn encode(segment: u64, offset: u64) -> [u8; LEN] {
    let mut out = [0; LEN];
    out[..4].copy_from_slice(&MAGIC);
    out[4..8].copy_from_slice(&VERSION.to_le_bytes());
    out[8..16].copy_from_slice(&segment.to_le_bytes());
    out[16..24].copy_from_slice(&offset.to_le_bytes());
    let crc = crc32fast::hash(&out[..24]);
    out[24..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(buf: &[u8]) -> Option<(u64, u64)> {
    let buf: &[u8; LEN] = buf.try_into().ok()?;
    if buf[..4] != MAGIC || buf[4..8] != VERSION.to_le_bytes() {
        return None;
    }
    if crc32fast::hash(&buf[..24]).to_le_bytes() != buf[24..] {
        return None;
    }
    let segment = u64::from_le_bytes(buf[8..16].try_into().ok()?);
    let offset = u64::from_le_bytes(buf[16..24].try_into().ok()?);
    Some((segment, offset))
}

/// What a consumer's cursor file says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// No cursor file.
    Missing,
    /// The file exists but cannot be read or fails its checks.
    Unreadable(String),
    /// Segment id and offset just past the last acknowledged record.
    At {
        /// Segment id.
        segment: u64,
        /// Offset in that segment.
        offset: u64,
    },
}

/// Reads `consumer`'s cursor in `dir`.
pub(crate) fn read(dir: &Path, consumer: &str) -> Stored {
    let path = dir.join(file_name(consumer));
    match std::fs::read(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Stored::Missing,
        Err(e) => Stored::Unreadable(e.to_string()),
        Ok(bytes) => match decode(&bytes) {
            Some((segment, offset)) => Stored::At { segment, offset },
            None => {
                Stored::Unreadable(format!("{} bytes that fail the format checks", bytes.len()))
            }
        },
    }
}

/// Replaces `consumer`'s cursor atomically; with `durable`, also `fsync`s the file and the
/// directory.
pub(crate) fn write(
    dir: &Path,
    consumer: &str,
    segment: u64,
    offset: u64,
    durable: bool,
) -> Result<(), Error> {
    let path = dir.join(file_name(consumer));
    let temporary = dir.join(format!("{PREFIX}{consumer}{TEMPORARY_SUFFIX}"));
    let mut file = File::create(&temporary).map_err(|e| Error::io("create", &temporary, e))?;
    file.write_all(&encode(segment, offset))
        .map_err(|e| Error::io("write", &temporary, e))?;
    if durable {
        file.sync_all()
            .map_err(|e| Error::io("fsync", &temporary, e))?;
    }
    drop(file);
    std::fs::rename(&temporary, &path).map_err(|e| Error::io("rename", &temporary, e))?;
    if durable {
        dir::sync(dir)?;
    }
    Ok(())
}

/// Deletes `consumer`'s cursor file.
pub(crate) fn remove(dir: &Path, consumer: &str) -> Result<(), Error> {
    let path = dir.join(file_name(consumer));
    super::dir::remove_if_exists(&path).map_err(|e| Error::io("remove", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "a"), Stored::Missing);
        write(dir.path(), "a", 3, 4096, false).unwrap();
        write(dir.path(), "a", 4, 64, true).unwrap();
        assert_eq!(
            read(dir.path(), "a"),
            Stored::At {
                segment: 4,
                offset: 64
            }
        );
        std::fs::write(dir.path().join(file_name("a")), b"garbage").unwrap();
        assert!(matches!(read(dir.path(), "a"), Stored::Unreadable(_)));
        remove(dir.path(), "a").unwrap();
        remove(dir.path(), "a").unwrap();
        assert_eq!(read(dir.path(), "a"), Stored::Missing);
    }

    #[test]
    fn names() {
        assert_eq!(parse_file_name(&file_name("out-1")), Some("out-1"));
        assert_eq!(parse_file_name("cursor-.pos"), None);
        assert!(is_temporary("cursor-out.pos.tmp"));
        assert_eq!(parse_file_name("cursor-out.pos.tmp"), None);
        let mut flipped = encode(1, 2);
        flipped[10] ^= 1;
        assert_eq!(decode(&flipped), None);
    }
}
