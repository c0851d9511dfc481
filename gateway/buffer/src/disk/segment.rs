//! Segment files: naming, the 32-byte header, and the open-time scan of their records.
//!
//! Header layout: `[magic "SLUICEQ\0"][version: u32 LE][reserved: u32][segment id: u64 LE]`
//! `[crc32 of the 24 bytes before: u32 LE][reserved: u32]`, then frames back to back.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::frame::{self, Decoded, FRAME_HEADER_LEN};

/// Bytes of the segment header; the first record starts here.
pub(crate) const SEGMENT_HEADER_LEN: u64 = 32;

const MAGIC: [u8; 8] = *b"SLUICEQ\0";
const VERSION: u32 = 1;

/// Scan window: records are read in chunks of at least this size.
const SCAN_CHUNK: usize = 1024 * 1024;

/// File name of segment `id`.
pub(crate) fn file_name(id: u64) -> String {
    format!("segment-{id:020}.log")
}

/// Name a deleted segment `id` has while its space is given back (see `reclaim`).
pub(crate) fn deleted_file_name(id: u64) -> String {
    format!("segment-{id:020}.log.deleted")
}

/// Whether `name` is a deleted segment's (see [`deleted_file_name`]).
pub(crate) fn is_deleted(name: &str) -> bool {
    name.strip_suffix(".deleted")
        .is_some_and(|segment| parse_file_name(segment).is_some())
}

/// The id in a segment file name, if `name` is one.
pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The header of segment `id`.
pub(crate) fn encode_header(id: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut out = [0; SEGMENT_HEADER_LEN as usize];
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&VERSION.to_le_bytes());
    out[16..24].copy_from_slice(&id.to_le_bytes());
    let crc = crc32fast::hash(&out[..24]);
    out[24..28].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Why a header was refused.
pub(crate) fn check_header(buf: &[u8], id: u64) -> Result<(), &'static str> {
    let Some(head) = buf.get(..SEGMENT_HEADER_LEN as usize) else {
        return Err("shorter than the segment header");
    };
    if head[..8] != MAGIC {
        return Err("bad magic");
    }
    if crc32fast::hash(&head[..24]).to_le_bytes() != head[24..28] {
        return Err("header checksum mismatch");
    }
    if head[8..12] != VERSION.to_le_bytes() {
        return Err("unsupported format version");
    }
    if head[16..24] != id.to_le_bytes() {
        return Err("segment id in the header does not match the file name");
    }
    Ok(())
}

/// Where the valid records of a segment stop and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damage {
    /// Offset of the first byte that is not part of a valid record.
    pub(crate) at: u64,
    /// What was found there.
    pub(crate) reason: &'static str,
    /// A valid record follows the damaged one: this is corruption in the middle, not a torn
    /// tail.
    pub(crate) valid_record_after: bool,
}

/// The result of scanning one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Size of the file.
    pub(crate) file_len: u64,
    /// Offset just past the last valid record (the header length when there is none).
    pub(crate) valid_end: u64,
    /// Valid records.
    pub(crate) records: u64,
    /// Set when bytes after `valid_end` are not valid records.
    pub(crate) damage: Option<Damage>,
}

/// Reads a file through a window so that small records cost one read per chunk.
struct Window<'a> {
    file: &'a File,
    file_len: u64,
    start: u64,
    buf: Vec<u8>,
}

impl Window<'_> {
    /// The bytes from `offset` to the end of the window, refilled so that at least `want`
    /// bytes (or everything up to the end of the file) are there.
    fn at(&mut self, offset: u64, want: u64) -> std::io::Result<&[u8]> {
        let window_end = self.start + self.buf.len() as u64;
        let needed_end = offset.saturating_add(want).min(self.file_len);
        if offset < self.start || needed_end > window_end {
            let len = (self.file_len - offset).min(want.max(SCAN_CHUNK as u64));
            self.buf
                .resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
            self.file.read_exact_at(&mut self.buf, offset)?;
            self.start = offset;
        }
        let from = usize::try_from(offset - self.start).unwrap_or(usize::MAX);
        Ok(self.buf.get(from..).unwrap_or_default())
    }
}

/// Checks the header and every record of segment `id`; calls `on_record` with the offset just
/// past each valid record.
pub(crate) fn scan(
    file: &File,
    id: u64,
    mut on_record: impl FnMut(u64),
) -> std::io::Result<Result<Scan, &'static str>> {
    let file_len = file.metadata()?.len();
    let mut window = Window {
        file,
        file_len,
        start: 0,
        buf: Vec::new(),
    };
    if let Err(reason) = check_header(window.at(0, SEGMENT_HEADER_LEN)?, id) {
        return Ok(Err(reason));
    }
    let mut offset = SEGMENT_HEADER_LEN;
    let mut records = 0;
    let mut want = FRAME_HEADER_LEN;
    let damage = loop {
        if offset == file_len {
            break None;
        }
        match frame::decode(window.at(offset, want)?) {
            Decoded::Record { frame_len } => {
                offset += frame_len;
                records += 1;
                want = FRAME_HEADER_LEN;
                on_record(offset);
            }
            Decoded::Incomplete { frame_len } => match frame_len {
                Some(frame_len) if offset + frame_len <= file_len && want < frame_len => {
                    want = frame_len;
                }
                _ => {
                    break Some(Damage {
                        at: offset,
                        reason: "record runs past the end of the file (torn write)",
                        valid_record_after: false,
                    });
                }
            },
            Decoded::Corrupt { frame_len } => {
                let next = offset + frame_len;
                let valid_record_after = next < file_len
                    && matches!(
                        frame::decode(window.at(next, FRAME_HEADER_LEN)?),
                        Decoded::Record { .. }
                    );
                break Some(Damage {
                    at: offset,
                    reason: "record checksum mismatch",
                    valid_record_after,
                });
            }
        }
    };
    Ok(Ok(Scan {
        file_len,
        valid_end: offset,
        records,
        damage,
    }))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(file_name(7), "segment-00000000000000000007.log");
        assert_eq!(parse_file_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_file_name("segment-7.log"), None);
        assert_eq!(parse_file_name("cursor-a.pos"), None);
        assert_eq!(parse_file_name(&deleted_file_name(3)), None);
        assert!(is_deleted(&deleted_file_name(3)));
        assert!(!is_deleted(&file_name(3)));
    }

    #[test]
    fn header_checks() {
        let header = encode_header(3);
        assert_eq!(check_header(&header, 3), Ok(()));
        assert!(check_header(&header, 4).is_err());
        assert!(check_header(&header[..10], 3).is_err());
        let mut bad = header;
        bad[9] ^= 1;
        assert!(check_header(&bad, 3).is_err());
    }

    fn segment_with(records: &[&[u8]]) -> (tempfile::NamedTempFile, Vec<u64>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&encode_header(1)).unwrap();
        let mut ends = Vec::new();
        let mut offset = SEGMENT_HEADER_LEN;
        for record in records {
            file.write_all(&frame::header(record)).unwrap();
            file.write_all(record).unwrap();
            offset += FRAME_HEADER_LEN + record.len() as u64;
            ends.push(offset);
        }
        (file, ends)
    }

    #[test]
    fn scan_finds_records_and_torn_tail() {
        let big = vec![7u8; 3 * SCAN_CHUNK];
        let (mut file, ends) = segment_with(&[b"a", &big, b"ccc"]);
        let mut seen = Vec::new();
        let scan = scan(file.as_file(), 1, |end| seen.push(end))
            .unwrap()
            .unwrap();
        assert_eq!(seen, ends);
        assert_eq!(scan.records, 3);
        assert_eq!(scan.valid_end, scan.file_len);
        assert_eq!(scan.damage, None);

        file.write_all(&frame::header(b"torn record")).unwrap();
        file.write_all(b"torn").unwrap();
        let scan = super::scan(file.as_file(), 1, |_| {}).unwrap().unwrap();
        assert_eq!(scan.records, 3);
        assert_eq!(scan.valid_end, ends[2]);
        assert!(scan.damage.is_some());
    }

    #[test]
    fn scan_tells_corruption_in_the_middle_from_a_torn_tail() {
        let (file, ends) = segment_with(&[b"first", b"second", b"third"]);
        file.as_file().write_all_at(b"X", ends[0] + 9).unwrap();
        let scan = scan(file.as_file(), 1, |_| {}).unwrap().unwrap();
        assert_eq!(scan.valid_end, ends[0]);
        let damage = scan.damage.unwrap();
        assert!(damage.valid_record_after, "{damage:?}");

        file.as_file().write_all_at(b"Y", ends[1] + 9).unwrap();
        let scan = super::scan(file.as_file(), 1, |_| {}).unwrap().unwrap();
        assert!(!scan.damage.unwrap().valid_record_after);
    }
}
