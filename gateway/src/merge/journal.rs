//! [`MergeJournal`]: the relay's merge windows on disk, so that neither a restart nor a
//! `kill -9` loses sketch points the relay acknowledged.
//!
//! Every batch holding sketch points is appended before the relay merges it and synced
//! before it is acknowledged; a checkpoint replaces the journal with the merger's
//! [`Snapshot`] once it has grown (and always on a graceful shutdown). On start the
//! journal is read back into a new [`Merger`]: written windows are kept for corrections
//! as before the restart, so a late sketch makes the point whole again instead of
//! overwriting it with part of it; windows not written yet are written `lateness` after
//! the start at the earliest. After a crash, windows merged since the last checkpoint
//! come back as not written and are written again (whole, same series and timestamp: the
//! store keeps one).
//!
//! Records (in a [`sluice_buffer::Journal`]): a kind byte, then
//! - `B` + a buffer record ([`Batch::record`]): a batch as it was ingested (roll-ups
//!   included when replayed);
//! - `O` / `W` + a buffer record: a checkpoint's open / written windows as sketch points;
//! - `F` + pairs of `i64` LE `(window length ns, latest end forgotten ns)`;
//! - `X` + a buffer record: windows a flush forgot, one point naming each.

use super::merger::{Merger, Snapshot};
use crate::batch::Batch;
use sluice_buffer::{Error, Journal, SyncPoint};
use std::path::Path;

/// A journal that has grown past this many bytes beyond twice its last checkpoint gets
/// a new checkpoint.
const SLACK: u64 = 4 << 20;

/// The merge windows' journal (see the [module](self)).
#[derive(Debug)]
pub struct MergeJournal {
    journal: Journal,
    /// Bytes of the last checkpoint.
    checkpointed: u64,
}

/// What [`MergeJournal::open`] took back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Sketch points of checkpoints taken back.
    pub sketch_points: usize,
    /// Batches ingested since the last checkpoint, merged again.
    pub batches: usize,
    /// Records that could not be read (logged and skipped).
    pub unreadable: usize,
    /// Bytes of a torn tail cut off.
    pub truncated: u64,
}

impl MergeJournal {
    /// Opens the journal in `dir`, takes what it holds back into `merger` at wall-clock
    /// time `now`, and checkpoints it.
    ///
    /// Errors: those of [`Journal::open`] and [`Journal::rewrite`] (`Locked` when another
    /// gateway merges with the same directory).
    pub fn open(dir: &Path, merger: &mut Merger, now: i64) -> Result<(Self, Restored), Error> {
        let (journal, replay) = Journal::open(dir)?;
        let mut restored = Restored {
            truncated: replay.truncated,
            ..Restored::default()
        };
        // Everything held before the stop comes back, even beyond max_series: the batches
        // since the last checkpoint are merged again with no flush in between.
        let max_series = merger.set_max_series(usize::MAX);
        for record in replay.records {
            let Some((&kind, _)) = record.split_first() else {
                restored.unreadable += 1;
                continue;
            };
            if kind == b'F' {
                for pair in record[1..].chunks_exact(16) {
                    let (len, through) = pair.split_at(8);
                    if let (Ok(len), Ok(through)) = (len.try_into(), through.try_into()) {
                        merger.restore_forgotten(
                            i64::from_le_bytes(len),
                            i64::from_le_bytes(through),
                        );
                    }
                }
                continue;
            }
            let batch = match Batch::decode(record.slice(1..)) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "merge journal: a record cannot be read; skipped");
                    restored.unreadable += 1;
                    continue;
                }
            };
            match kind {
                b'B' => {
                    merger.ingest(&batch, now);
                    restored.batches += 1;
                }
                b'O' | b'W' => {
                    restored.sketch_points += merger.restore(&batch, now, kind == b'W');
                }
                b'X' => merger.restore_forgotten_windows(&batch),
                _ => restored.unreadable += 1,
            }
        }
        merger.set_max_series(max_series);
        let mut journal = Self {
            journal,
            checkpointed: 0,
        };
        journal.checkpoint(merger, true)?;
        Ok((journal, restored))
    }

    /// Appends `batch` (one that may hold sketch points) before it is merged; returns
    /// what to wait for before the batch is acknowledged.
    ///
    /// Errors: [`Error::Io`], [`Error::RecordTooLarge`], [`Error::WriterFailed`]; the
    /// batch must then be refused.
    pub fn record(&mut self, batch: &Batch) -> Result<SyncPoint, Error> {
        let record = batch.record();
        let [head, tail] = record.parts();
        self.journal.append(&[b"B", head, tail])
    }

    /// Appends the windows a flush forgot (an `X` record of [`Flushed::forgotten`]), so
    /// that a replay forgets them again where they were forgotten: sketches dropped as
    /// late after it stay dropped. Not synced: lost with a crash, a replay merges those
    /// late sketches into the window written again.
    ///
    /// Errors: those of [`Journal::append`].
    ///
    /// [`Flushed::forgotten`]: super::merger::Flushed::forgotten
    pub fn record_forgotten(&mut self, forgotten: &Batch) -> Result<(), Error> {
        let record = forgotten.record();
        let [head, tail] = record.parts();
        self.journal.append(&[b"X", head, tail]).map(drop)
    }

    /// Whether the journal has grown enough since the last checkpoint to take another.
    pub fn checkpoint_due(&self) -> bool {
        self.journal.len() > self.checkpointed.saturating_mul(2).saturating_add(SLACK)
    }

    /// Replaces the journal with `merger`'s [`Snapshot`], durably. With
    /// `written_delivered` false (summaries still waiting for the buffer, or lost to it),
    /// written windows are recorded as open: a restart writes them again rather than
    /// trust a write that may not have happened.
    ///
    /// Errors: those of [`Journal::rewrite`].
    pub fn checkpoint(&mut self, merger: &Merger, written_delivered: bool) -> Result<(), Error> {
        let Snapshot {
            mut open,
            mut written,
            forgotten_through,
        } = merger.snapshot();
        if !written_delivered {
            open.append(&mut written);
        }
        let mut records: Vec<Vec<u8>> = Vec::with_capacity(1 + open.len() + written.len());
        for (kind, batches) in [(b'O', open), (b'W', written)] {
            for batch in batches {
                let mut record = vec![kind];
                record.extend_from_slice(&batch.record().into_bytes());
                records.push(record);
            }
        }
        // After the windows: a window still held may end before a forgotten one of
        // another series, and must not be taken back as late.
        records.push(forgotten_record(&forgotten_through));
        self.journal.rewrite(records.iter().map(Vec::as_slice))?;
        self.checkpointed = self.journal.len();
        Ok(())
    }
}

/// An `F` record of `(window length ns, latest end forgotten ns)` pairs.
fn forgotten_record(forgotten_through: &[(i64, i64)]) -> Vec<u8> {
    let mut record = vec![b'F'];
    for (len, through) in forgotten_through {
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&through.to_le_bytes());
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Context;
    use crate::config::{Config, EdgeConfig};
    use crate::edge::Aggregator;

    const S: i64 = 1_000_000_000;
    const T0: i64 = 1_700_000_000 * S;

    fn merger() -> Merger {
        let config = Config::parse("[merge]\nlateness = \"1s\"\nrollups = [\"10s\"]").unwrap();
        Merger::new(config.merge.as_ref().unwrap())
    }

    /// What the edge of `node` sends for `values` in the 2 s window at T0.
    fn sketches(node: &str, values: &[f64]) -> Batch {
        let mut edge = Aggregator::new(&EdgeConfig {
            window: std::time::Duration::from_secs(2),
            ..EdgeConfig::default()
        });
        let lines: String = values
            .iter()
            .map(|v| format!("lat,node={node} ms={v} {T0}\n"))
            .collect();
        edge.ingest(
            &Batch::from_lines(Context::from_bucket("lt"), lines.as_bytes(), values.len()),
            T0,
        );
        edge.flush(0, true).batches.remove(0)
    }

    fn counts(flushed: &[Batch]) -> Vec<String> {
        let mut out: Vec<String> = flushed
            .iter()
            .flat_map(|b| {
                String::from_utf8_lossy(b.lines())
                    .into_owned()
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .map(|line| {
                let window = line
                    .split(',')
                    .nth(1)
                    .unwrap_or_default()
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let count = line
                    .split("ms_count=")
                    .nth(1)
                    .unwrap_or_default()
                    .split('i')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                format!("{window} {count}")
            })
            .collect();
        out.sort();
        out
    }

    /// Ingests `batch` as the stage does: journaled, then merged.
    fn ingest(journal: &mut MergeJournal, merger: &mut Merger, batch: &Batch, now: i64) {
        journal.record(batch).unwrap();
        merger.ingest(batch, now);
    }

    #[test]
    fn a_crash_loses_no_journaled_sketch_and_counts_none_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = merger();
        let (mut journal, restored) = MergeJournal::open(dir.path(), &mut m, T0).unwrap();
        assert_eq!(restored, Restored::default());
        ingest(&mut journal, &mut m, &sketches("n0", &[1.0, 2.0]), T0);
        // A checkpoint in between: the roll-up must not count the checkpointed sketches
        // twice when replayed.
        journal.checkpoint(&m, true).unwrap();
        ingest(&mut journal, &mut m, &sketches("n1", &[3.0]), T0);
        // The process dies here: no flush, no checkpoint.
        drop(journal);
        let mut back = merger();
        let (_journal, restored) = MergeJournal::open(dir.path(), &mut back, T0 + 5 * S).unwrap();
        assert_eq!((restored.sketch_points, restored.batches), (2, 1));
        assert_eq!(
            back.flush(T0 + 5 * S, false).points,
            0,
            "lateness from the restart"
        );
        assert_eq!(
            counts(&back.flush(T0 + 6 * S, false).batches),
            ["sluice_window=2s 3"]
        );
        assert_eq!(
            counts(&back.flush(T0 + 11 * S, false).batches),
            ["sluice_window=10s 3"]
        );
    }

    #[test]
    fn a_graceful_restart_keeps_written_windows_for_corrections() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = merger();
        let (mut journal, _) = MergeJournal::open(dir.path(), &mut m, T0).unwrap();
        ingest(&mut journal, &mut m, &sketches("n0", &[1.0, 2.0]), T0);
        assert_eq!(m.flush(T0 + 3 * S, true).points, 2);
        journal.checkpoint(&m, true).unwrap();
        drop(journal);
        let mut back = merger();
        let (mut journal, _) = MergeJournal::open(dir.path(), &mut back, T0 + 4 * S).unwrap();
        assert_eq!(
            back.flush(T0 + 20 * S, false).points,
            0,
            "both were written"
        );
        ingest(
            &mut journal,
            &mut back,
            &sketches("n1", &[3.0]),
            T0 + 21 * S,
        );
        assert_eq!(
            counts(&back.flush(T0 + 21 * S, false).batches),
            ["sluice_window=10s 3", "sluice_window=2s 3"]
        );
    }

    #[test]
    fn a_replay_takes_back_every_window_even_beyond_max_series() {
        let dir = tempfile::tempdir().unwrap();
        let limited = || {
            let config = Config::parse("[merge]\nlateness = \"1s\"\nmax_series = 1").unwrap();
            Merger::new(config.merge.as_ref().unwrap())
        };
        let mut m = limited();
        let (mut journal, _) = MergeJournal::open(dir.path(), &mut m, T0).unwrap();
        ingest(&mut journal, &mut m, &sketches("n0", &[1.0]), T0);
        // The window is written (and held for keep): the next one fits max_series again.
        m.flush(T0 + 3 * S, false);
        let mut later = Aggregator::new(&EdgeConfig {
            window: std::time::Duration::from_secs(2),
            ..EdgeConfig::default()
        });
        let lines = format!("lat,node=n0 ms=5 {}\n", T0 + 4 * S);
        later.ingest(
            &Batch::from_lines(Context::from_bucket("lt"), lines.as_bytes(), 1),
            T0 + 4 * S,
        );
        let later = later.flush(0, true).batches.remove(0);
        m.flush(T0 + 70 * S, false);
        ingest(&mut journal, &mut m, &later, T0 + 70 * S);
        drop(journal);
        // Both batches come back at once: the second is still taken.
        let mut back = limited();
        let (_journal, restored) = MergeJournal::open(dir.path(), &mut back, T0 + 80 * S).unwrap();
        assert_eq!(restored.batches, 2);
        let flushed = counts(&back.flush(T0 + 81 * S, false).batches);
        assert_eq!(flushed, ["sluice_window=2s 1", "sluice_window=2s 1"]);
    }

    #[test]
    fn a_sketch_dropped_as_late_stays_dropped_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = merger();
        let (mut journal, _) = MergeJournal::open(dir.path(), &mut m, T0).unwrap();
        ingest(&mut journal, &mut m, &sketches("n0", &[1.0]), T0);
        m.flush(T0 + 3 * S, false);
        // Kept for a minute, then forgotten: the stage journals what the flush forgot.
        let flushed = m.flush(T0 + 70 * S, false);
        assert_eq!(flushed.forgotten.len(), 1);
        journal.record_forgotten(&flushed.forgotten[0]).unwrap();
        let late = sketches("n1", &[5.0]);
        journal.record(&late).unwrap();
        assert_eq!(m.ingest(&late, T0 + 71 * S).late, 1);
        drop(journal);
        let mut back = merger();
        MergeJournal::open(dir.path(), &mut back, T0 + 80 * S).unwrap();
        // The 2 s window stays forgotten; the roll-up (still held) holds n0 alone.
        assert_eq!(
            counts(&back.flush(T0 + 200 * S, false).batches),
            ["sluice_window=10s 1"]
        );
    }
}
