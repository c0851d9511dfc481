//! Opening a buffer directory after a clean stop or a crash: scan every segment, cut a torn
//! tail, skip corruption, and resolve each consumer's cursor to a record boundary.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;

use super::cursor::{self, Stored};
use super::group_commit::{ActiveSegment, create_segment};
use super::segment::{self, SEGMENT_HEADER_LEN};
use super::state::{ConsumerSlot, SegmentMeta, State};
use super::{dir, reclaim};
use crate::{Error, Position, RecoveryReport};

/// What recovery hands to the queue.
pub(crate) struct Recovered {
    /// Segments, head and cursors (no writer channel yet).
    pub(crate) state: State,
    /// The segment to append to.
    pub(crate) active: ActiveSegment,
    /// What was found and repaired (segment and record totals are filled in by the caller).
    pub(crate) report: RecoveryReport,
    /// Consumers whose cursor file must be rewritten before anything is appended: it was
    /// unreadable, or pointed past data cut off a torn tail, where new records will now go.
    pub(crate) stale_cursors: Vec<usize>,
}

/// Scans `dir` and rebuilds the queue's state for `consumers`.
pub(crate) fn recover(
    dir: &Path,
    consumers: &[String],
    segment_size: u64,
) -> Result<Recovered, Error> {
    let listing = dir::list(dir)?;
    let mut report = RecoveryReport::default();
    for path in &listing.temporary {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a leftover temporary cursor file");
        }
    }
    for path in &listing.deleted {
        reclaim::remove_logged(path);
    }
    for name in &listing.cursors {
        if !consumers.contains(name) {
            cursor::remove(dir, name)?;
            tracing::info!(consumer = %name, "removed the cursor of a consumer that is no longer configured");
            report.cursors_removed.push(name.clone());
        }
    }
    let stored: Vec<Stored> = consumers
        .iter()
        .map(|name| cursor::read(dir, name))
        .collect();
    let mut resolved: Vec<Option<Position>> = vec![None; consumers.len()];
    let mut segments = BTreeMap::new();
    let mut seq = 0;
    let newest = listing.segments.last().copied();
    let mut continuable = None;

    for &id in &listing.segments {
        let path = dir.join(segment::file_name(id));
        let is_newest = Some(id) == newest;
        let file = OpenOptions::new()
            .read(true)
            .write(is_newest)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        let first_seq = seq;
        let targets: Vec<(usize, u64)> = stored
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match *s {
                Stored::At { segment, offset } if segment == id && offset >= SEGMENT_HEADER_LEN => {
                    Some((i, offset))
                }
                _ => None,
            })
            .collect();
        for &(i, _) in &targets {
            resolved[i] = Some(Position {
                segment: id,
                offset: SEGMENT_HEADER_LEN,
                seq,
            });
        }
        let scanned = segment::scan(&file, id, |end| {
            seq += 1;
            for &(i, offset) in &targets {
                if end <= offset {
                    resolved[i] = Some(Position {
                        segment: id,
                        offset: end,
                        seq,
                    });
                }
            }
        })
        .map_err(|e| Error::io("read", &path, e))?;

        let meta = match scanned {
            Err(reason) => {
                let file_len = file
                    .metadata()
                    .map_err(|e| Error::io("stat", &path, e))?
                    .len();
                if is_newest {
                    // Created but never completed: no record was ever written to it.
                    tracing::warn!(
                        segment = id,
                        reason,
                        bytes = file_len,
                        "removed the newest buffer segment: its header is incomplete (crash while creating it)"
                    );
                    std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                    dir::sync(dir)?;
                    report.truncated_bytes += file_len;
                    continue;
                }
                tracing::error!(
                    segment = id,
                    reason,
                    bytes = file_len,
                    "buffer segment has a bad header; its records are skipped (data loss)"
                );
                report.corrupt_segments.push(id);
                report.skipped_bytes += file_len;
                SegmentMeta {
                    end: SEGMENT_HEADER_LEN,
                    file_len,
                    first_seq,
                    end_seq: seq,
                    sealed: true,
                }
            }
            Ok(scan) => {
                let mut file_len = scan.file_len;
                if let Some(damage) = &scan.damage {
                    let lost = scan.file_len - scan.valid_end;
                    if is_newest {
                        file.set_len(scan.valid_end)
                            .and_then(|()| file.sync_all())
                            .map_err(|e| Error::io("truncate", &path, e))?;
                        file_len = scan.valid_end;
                        report.truncated_bytes += lost;
                        if damage.valid_record_after {
                            tracing::error!(
                                segment = id,
                                at = damage.at,
                                bytes = lost,
                                reason = damage.reason,
                                "corrupt record inside the newest buffer segment; it and everything after it were truncated (data loss)"
                            );
                        } else {
                            tracing::warn!(
                                segment = id,
                                at = damage.at,
                                bytes = lost,
                                reason = damage.reason,
                                "truncated the torn tail of the newest buffer segment (a write cut short by a crash)"
                            );
                        }
                    } else {
                        tracing::error!(
                            segment = id,
                            at = damage.at,
                            bytes = lost,
                            reason = damage.reason,
                            "corrupt record in a buffer segment; the rest of the segment is skipped (data loss)"
                        );
                        report.corrupt_segments.push(id);
                        report.skipped_bytes += lost;
                    }
                }
                if is_newest && scan.valid_end < segment_size {
                    continuable = Some((file, path));
                }
                SegmentMeta {
                    end: scan.valid_end,
                    file_len,
                    first_seq,
                    end_seq: seq,
                    sealed: true,
                }
            }
        };
        segments.insert(id, meta);
    }

    let active = match continuable {
        Some((file, path)) => {
            let (&id, meta) = segments
                .iter_mut()
                .next_back()
                .ok_or_else(|| Error::io("reopen", &path, std::io::ErrorKind::NotFound.into()))?;
            meta.sealed = false;
            ActiveSegment {
                id,
                file,
                path,
                len: meta.end,
            }
        }
        None => {
            let id = newest.map_or(0, |id| id.saturating_add(1));
            let (file, path) = create_segment(dir, id)?;
            segments.insert(
                id,
                SegmentMeta {
                    end: SEGMENT_HEADER_LEN,
                    file_len: SEGMENT_HEADER_LEN,
                    first_seq: seq,
                    end_seq: seq,
                    sealed: false,
                },
            );
            ActiveSegment {
                id,
                file,
                path,
                len: SEGMENT_HEADER_LEN,
            }
        }
    };

    let (&first_id, first) = segments
        .first_key_value()
        .ok_or_else(|| Error::io("list", dir, std::io::ErrorKind::NotFound.into()))?;
    let oldest = Position {
        segment: first_id,
        offset: SEGMENT_HEADER_LEN,
        seq: first.first_seq,
    };
    let mut slots = Vec::with_capacity(consumers.len());
    let mut stale_cursors = Vec::new();
    for (index, ((name, stored), resolved)) in
        consumers.iter().zip(&stored).zip(resolved).enumerate()
    {
        let acked = match (stored, resolved) {
            (Stored::Missing, _) => {
                tracing::info!(consumer = %name, "no cursor: the consumer starts at the oldest retained record");
                report.cursors_missing.push(name.clone());
                oldest
            }
            (Stored::Unreadable(why), _) => {
                tracing::warn!(consumer = %name, reason = %why, "unreadable cursor: the consumer restarts at the oldest retained record (duplicates possible)");
                report.cursors_unreadable.push(name.clone());
                oldest
            }
            (&Stored::At { segment, offset }, Some(position)) => {
                if position.offset != offset {
                    tracing::warn!(consumer = %name, cursor = %format_args!("{segment}:{offset}"), resumes = %position, "cursor was past the valid data or off a record boundary; moved back");
                }
                position
            }
            (&Stored::At { segment, .. }, None) if segment < first_id => {
                // Every consumer had passed the deleted segments; the cursor file just lagged
                // (cursors are not synced on every ack).
                oldest
            }
            (&Stored::At { segment, offset }, None) => {
                tracing::warn!(consumer = %name, cursor = %format_args!("{segment}:{offset}"), "cursor points at no retained record: the consumer restarts at the oldest retained record (duplicates possible)");
                report.cursors_unreadable.push(name.clone());
                oldest
            }
        };
        if !matches!(*stored, Stored::At { segment, offset } if segment == acked.segment && offset == acked.offset)
            && !matches!(stored, Stored::Missing)
        {
            stale_cursors.push(index);
        }
        slots.push(ConsumerSlot {
            name: name.clone(),
            cursor_write: Arc::default(),
            removed: false,
            acked,
            persisted: None,
            live: false,
        });
    }

    let state = State {
        head: Position {
            segment: active.id,
            offset: active.len,
            seq,
        },
        retained: segments.values().map(|meta| meta.file_len).sum(),
        segments,
        reserved: 0,
        consumers: slots,
        closed: false,
        failed: None,
        sender: None,
    };
    Ok(Recovered {
        state,
        active,
        report,
        stale_cursors,
    })
}
