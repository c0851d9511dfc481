//! [`Merger`]: the windows a relay is merging.

use crate::batch::{Batch, Context};
use crate::config::MergeConfig;
use crate::quantile::window::{format_len, nanos, parse_len};
use crate::quantile::wire::{WINDOW_TAG, into_batches, sketches_of, write_summary};

/// What every sketch point holds, found without walking the batch's points.
const WINDOW_MARKER: &[u8] = b"sluice_window=";
const _: () = assert!(WINDOW_MARKER.len() == WINDOW_TAG.len() + 1);
use crate::quantile::{Quantile, SeriesKey, Sketch, Window};
use sluice_lineproto::{LineWriter, trusted_points};
use std::collections::HashMap;

/// Quantiles written when neither `[merge] quantiles` nor the sketch points name any
/// (DESIGN §3).
const DEFAULT_QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// One series in one window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EntryKey {
    context: Context,
    window: Window,
    series: SeriesKey,
}

/// The merged sketches of one series in one window.
#[derive(Debug)]
struct Entry {
    /// One merged sketch per field, in order of first sight.
    fields: Vec<(String, Sketch)>,
    /// The quantiles the sketch points asked for.
    quantiles: Vec<Quantile>,
    /// When the window closes (wall clock, ns).
    close_at: i64,
    /// Once written: when it is forgotten (wall clock, ns).
    forget_at: Option<i64>,
    /// Written, and merged into since: to be written again.
    dirty: bool,
}

/// One sketch point's part in a merge: where it goes and what it brings.
struct Target<'a> {
    context: &'a Context,
    series: &'a SeriesKey,
    sketches: &'a [(String, Sketch)],
    quantiles: &'a [Quantile],
    /// Wall clock, ns.
    now: i64,
}

/// What merging one sketch point into one window came to.
enum Outcome {
    /// Into a window not written yet.
    Merged,
    /// Into a window already written: it is written again.
    Corrected,
    /// The window was forgotten.
    Late,
    /// A new entry beyond `max_series`.
    OverLimit,
}

/// What [`Merger::ingest`] did with a batch.
#[derive(Debug, Default)]
pub struct Merged {
    /// What goes on to the buffer now: the points that are not sketch points (the batch
    /// itself when it holds no sketch point).
    pub passthrough: Option<Batch>,
    /// Sketch points merged.
    pub merged: usize,
    /// Of those, points for a window already written (it is written again).
    pub corrections: usize,
    /// Sketch points for a window already forgotten.
    pub late: usize,
    /// Sketches that could not be decoded or merged (different accuracy).
    pub invalid: usize,
    /// Sketch points beyond `max_series`.
    pub over_limit: usize,
}

/// What [`Merger::flush`] wrote.
#[derive(Debug, Default)]
pub struct Flushed {
    /// One batch of merged points per routing context.
    pub batches: Vec<Batch>,
    /// Merged points written.
    pub points: usize,
    /// The windows forgotten (later sketches for them are late), as points naming them
    /// (series, `sluice_window`, start), one batch per routing context: for the journal.
    pub forgotten: Vec<Batch>,
}

/// What a [`Merger`] holds, as sketch points (`F_sketch` fields, [`write_summary`] with
/// the sketch): enough to rebuild it after a restart with [`Merger::restore`].
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Windows not written yet (or corrected since), one batch per routing context.
    pub open: Vec<Batch>,
    /// Windows written and kept for corrections, one batch per routing context.
    pub written: Vec<Batch>,
    /// Per window length (ns), the latest end of a window forgotten (ns).
    pub forgotten_through: Vec<(i64, i64)>,
}

/// The windows a relay is merging: sketch points go in with [`Merger::ingest`], merged
/// points come out of [`Merger::flush`]. Times are Unix nanoseconds; the caller passes
/// the wall clock in.
#[derive(Debug)]
pub struct Merger {
    /// Tags removed before grouping.
    drop_tags: Vec<String>,
    /// Configured quantiles; empty: those of the sketch points.
    quantiles: Vec<Quantile>,
    /// ns after a window's end (or first sketch) before it is written.
    lateness: i64,
    /// ns a written window is kept for corrections.
    keep: i64,
    /// Most entries held; of them, windows not yet written are never forgotten early.
    max_series: usize,
    /// Entries whose window is not written yet.
    open: usize,
    /// Write `F_sketch` too.
    emit_sketches: bool,
    /// Longer windows (ns) each sketch is also merged into.
    rollups: Vec<i64>,
    /// Everything held.
    entries: HashMap<EntryKey, Entry>,
    /// Per window length, the latest end of a window forgotten: sketches for windows
    /// ending at or before it are late.
    forgotten_through: HashMap<i64, i64>,
}

impl Merger {
    /// A merger holding nothing.
    pub fn new(config: &MergeConfig) -> Self {
        Self {
            drop_tags: config.drop_tags.clone(),
            quantiles: Quantile::list(&config.quantiles),
            lateness: nanos(config.lateness),
            keep: nanos(config.keep),
            max_series: config.max_series,
            open: 0,
            emit_sketches: config.emit_sketches,
            rollups: config.rollup_lengths().into_iter().map(nanos).collect(),
            entries: HashMap::new(),
            forgotten_through: HashMap::new(),
        }
    }

    /// How often the owner should call [`Merger::flush`].
    pub const TICK: std::time::Duration = std::time::Duration::from_millis(200);

    /// Sets `max_series`, returning the previous value (lifted while a journal is taken
    /// back, so that nothing held before a restart is refused).
    pub fn set_max_series(&mut self, max_series: usize) -> usize {
        std::mem::replace(&mut self.max_series, max_series)
    }

    /// (series, window) pairs held.
    pub fn series(&self) -> usize {
        self.entries.len()
    }

    /// Whether `batch` may hold sketch points (a fast check: `false` means it holds none).
    pub fn may_hold_sketches(batch: &Batch) -> bool {
        memchr::memmem::find(batch.lines(), WINDOW_MARKER).is_some()
    }

    /// `batch` split into its sketch points and the others, each `None` when there is
    /// none; a batch without a sketch point comes back whole (no parsing).
    pub fn split(batch: &Batch) -> (Option<Batch>, Option<Batch>) {
        if !Self::may_hold_sketches(batch) {
            return (None, Some(batch.clone()));
        }
        let mut sketches = LineWriter::new();
        let mut others = LineWriter::new();
        for point in trusted_points(batch.lines()) {
            let Ok(point) = point else { continue };
            if sketches_of(&point).is_some() {
                sketches.push_point(&point);
            } else {
                others.push_point(&point);
            }
        }
        let part = |w: LineWriter| {
            (w.points() > 0)
                .then(|| Batch::from_lines(batch.context().clone(), w.as_bytes(), w.points()))
        };
        (part(sketches), part(others))
    }

    /// Merges the sketch points of `batch` at wall-clock time `now`; the other points
    /// come back in [`Merged::passthrough`], untouched.
    pub fn ingest(&mut self, batch: &Batch, now: i64) -> Merged {
        let mut done = Merged::default();
        if !Self::may_hold_sketches(batch) {
            done.passthrough = Some(batch.clone());
            return done;
        }
        let mut passthrough = LineWriter::new();
        for point in trusted_points(batch.lines()) {
            let Ok(point) = point else { continue };
            let Some(found) = sketches_of(&point) else {
                passthrough.push_point(&point);
                continue;
            };
            let (window, series, sketches, invalid) = self.decode(&point, &found);
            done.invalid += invalid;
            if sketches.is_empty() {
                continue;
            }
            let target = Target {
                context: batch.context(),
                series: &series,
                sketches: &sketches,
                quantiles: &found.quantiles,
                now,
            };
            match self.merge_into(window, &target, &mut done) {
                Outcome::Merged => done.merged += 1,
                Outcome::Corrected => {
                    done.merged += 1;
                    done.corrections += 1;
                }
                Outcome::Late => {
                    done.late += 1;
                    continue;
                }
                Outcome::OverLimit => {
                    done.over_limit += 1;
                    continue;
                }
            }
            // Roll-ups: the same sketches into the longer windows that hold this one.
            for i in 0..self.rollups.len() {
                let len = self.rollups[i];
                if len > window.len {
                    let rollup = Window::containing(window.start, len);
                    if let Outcome::OverLimit = self.merge_into(rollup, &target, &mut done) {
                        done.over_limit += 1;
                    }
                }
            }
        }
        if passthrough.points() > 0 {
            done.passthrough = Some(Batch::from_lines(
                batch.context().clone(),
                passthrough.as_bytes(),
                passthrough.points(),
            ));
        }
        done
    }

    /// Everything held, as sketch points (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        let mut open: HashMap<Context, LineWriter> = HashMap::new();
        let mut written: HashMap<Context, LineWriter> = HashMap::new();
        for (key, entry) in &self.entries {
            let side = if entry.forget_at.is_none() || entry.dirty {
                &mut open
            } else {
                &mut written
            };
            let out = side.entry(key.context.clone()).or_default();
            let fields = entry.fields.iter().map(|(n, s)| (n.as_str(), s));
            write_summary(out, &key.series, key.window, fields, &entry.quantiles, true);
        }
        Snapshot {
            open: into_batches(open),
            written: into_batches(written),
            forgotten_through: self
                .forgotten_through
                .iter()
                .map(|(&l, &t)| (l, t))
                .collect(),
        }
    }

    /// Takes back part of a [`Snapshot`] at wall-clock time `now`: the sketch points of
    /// `batch` go into exactly their window (no roll-up: the snapshot holds the roll-ups
    /// as points of their own). `written` windows are kept for `keep` from `now` and
    /// written again only if corrected; the others close `lateness` after `now` at the
    /// earliest. Returns the sketch points taken.
    pub fn restore(&mut self, batch: &Batch, now: i64, written: bool) -> usize {
        let mut done = Merged::default();
        let mut taken = 0;
        for point in trusted_points(batch.lines()) {
            let Ok(point) = point else { continue };
            let Some(found) = sketches_of(&point) else {
                continue;
            };
            let (window, series, sketches, _) = self.decode(&point, &found);
            let target = Target {
                context: batch.context(),
                series: &series,
                sketches: &sketches,
                quantiles: &found.quantiles,
                now,
            };
            if sketches.is_empty()
                || !matches!(
                    self.merge_into(window, &target, &mut done),
                    Outcome::Merged | Outcome::Corrected
                )
            {
                continue;
            }
            taken += 1;
            let key = EntryKey {
                context: batch.context().clone(),
                window,
                series,
            };
            if let Some(entry) = self.entries.get_mut(&key)
                && written
                && entry.forget_at.is_none()
            {
                entry.forget_at = Some(now.saturating_add(self.keep));
                self.open = self.open.saturating_sub(1);
            }
        }
        taken
    }

    /// [`Snapshot::forgotten_through`] alone.
    pub fn snapshot_forgotten(&self) -> Vec<(i64, i64)> {
        self.forgotten_through
            .iter()
            .map(|(&l, &t)| (l, t))
            .collect()
    }

    /// Takes back [`Snapshot::forgotten_through`]: sketches for windows of `len` ns
    /// ending at or before `through` are late.
    pub fn restore_forgotten(&mut self, len: i64, through: i64) {
        let held = self.forgotten_through.entry(len).or_insert(i64::MIN);
        *held = (*held).max(through);
    }

    /// A sketch point's window, series and decoded sketches, and how many of its sketches
    /// could not be decoded.
    fn decode(
        &self,
        point: &sluice_lineproto::Point<'_>,
        found: &crate::quantile::wire::SketchPoint<'_>,
    ) -> (Window, SeriesKey, Vec<(String, Sketch)>, usize) {
        let window = Window::containing(point.timestamp(), found.window_len);
        let mut sketches = Vec::with_capacity(found.sketches.len());
        let mut invalid = 0;
        for (field, text) in &found.sketches {
            match Sketch::decode(text) {
                Ok(sketch) => sketches.push((field.clone(), sketch)),
                Err(_) => invalid += 1,
            }
        }
        (
            window,
            SeriesKey::of(point, &self.drop_tags),
            sketches,
            invalid,
        )
    }

    /// Merges `target`'s sketches into its series' entry of `window`, opening the entry
    /// when it is new. Sketches of another accuracy are counted in `done.invalid`.
    fn merge_into(&mut self, window: Window, target: &Target<'_>, done: &mut Merged) -> Outcome {
        let key = EntryKey {
            context: target.context.clone(),
            window,
            series: target.series.clone(),
        };
        // A window still held takes its sketches even past a window forgotten of another
        // series; only a new entry could be a part overwriting a whole.
        if !self.entries.contains_key(&key)
            && self
                .forgotten_through
                .get(&window.len)
                .is_some_and(|&through| window.end() <= through)
        {
            return Outcome::Late;
        }
        let open = self.open;
        let entry = match self.entries.get_mut(&key) {
            Some(entry) => entry,
            // Written windows make room at the next flush (forgotten early); windows
            // still open never do.
            None if open >= self.max_series => return Outcome::OverLimit,
            None => self.entries.entry(key).or_insert_with(|| Entry {
                fields: Vec::new(),
                quantiles: Vec::new(),
                close_at: window.end().max(target.now).saturating_add(self.lateness),
                forget_at: None,
                dirty: false,
            }),
        };
        if entry.fields.is_empty() {
            // New (an entry gets its first sketch here, and never loses it).
            self.open += 1;
        }
        for (field, sketch) in target.sketches {
            match entry.fields.iter_mut().find(|(name, _)| name == field) {
                Some((_, held)) => {
                    if held.merge(sketch).is_err() {
                        done.invalid += 1;
                    }
                }
                None => entry.fields.push((field.clone(), sketch.clone())),
            }
        }
        for q in target.quantiles {
            if !entry.quantiles.iter().any(|o| o.name == q.name) {
                entry.quantiles.push(q.clone());
            }
        }
        if entry.forget_at.is_some() {
            entry.dirty = true;
            Outcome::Corrected
        } else {
            Outcome::Merged
        }
    }

    /// Writes the windows that closed by `now` (and those corrected since they were
    /// written), and forgets those kept long enough; with `all` (on shutdown), writes
    /// every window not written yet.
    pub fn flush(&mut self, now: i64, all: bool) -> Flushed {
        let mut flushed = Flushed::default();
        let mut writers: HashMap<Context, LineWriter> = HashMap::new();
        let defaults = Quantile::list(&DEFAULT_QUANTILES);
        let mut forget = Vec::new();
        for (key, entry) in &mut self.entries {
            let due = match entry.forget_at {
                None => all || entry.close_at <= now,
                Some(forget_at) => {
                    if forget_at <= now && !entry.dirty {
                        forget.push(key.clone());
                    }
                    entry.dirty
                }
            };
            if !due {
                continue;
            }
            let quantiles = if !self.quantiles.is_empty() {
                &self.quantiles
            } else if !entry.quantiles.is_empty() {
                &entry.quantiles
            } else {
                &defaults
            };
            let out = writers.entry(key.context.clone()).or_default();
            let fields = entry.fields.iter().map(|(n, s)| (n.as_str(), s));
            if write_summary(
                out,
                &key.series,
                key.window,
                fields,
                quantiles,
                self.emit_sketches,
            ) {
                flushed.points += 1;
            }
            entry.dirty = false;
            if entry.forget_at.is_none() {
                entry.forget_at = Some(now.saturating_add(self.keep));
                self.open = self.open.saturating_sub(1);
            }
        }
        // Over max_series: forget the written windows that are due soonest first, so
        // that kept windows never crowd out open ones.
        let excess = (self.entries.len() - forget.len()).saturating_sub(self.max_series);
        if excess > 0 {
            let mut written: Vec<(i64, &EntryKey)> = self
                .entries
                .iter()
                .filter_map(|(k, e)| e.forget_at.filter(|&at| at > now).map(|at| (at, k)))
                .collect();
            written.sort_unstable_by_key(|(at, k)| (*at, k.window.start));
            forget.extend(written.into_iter().take(excess).map(|(_, k)| k.clone()));
        }
        let mut tombstones: HashMap<Context, LineWriter> = HashMap::new();
        for key in forget {
            if self.entries.remove(&key).is_some() {
                let out = tombstones.entry(key.context.clone()).or_default();
                write_tombstone(out, &key.series, key.window);
                let through = self
                    .forgotten_through
                    .entry(key.window.len)
                    .or_insert(i64::MIN);
                *through = (*through).max(key.window.end());
            }
        }
        flushed.batches = into_batches(writers);
        flushed.forgotten = into_batches(tombstones);
        flushed
    }

    /// Forgets again the windows [`Flushed::forgotten`] named, when a journal is replayed:
    /// their sketches replayed before are dropped, and those after are late.
    pub fn restore_forgotten_windows(&mut self, batch: &Batch) {
        for point in trusted_points(batch.lines()) {
            let Ok(point) = point else { continue };
            let Some(len) = point
                .tag(WINDOW_TAG)
                .and_then(|t| parse_len(&t.to_string_lossy()))
            else {
                continue;
            };
            let window = Window::containing(point.timestamp(), len);
            let key = EntryKey {
                context: batch.context().clone(),
                window,
                series: SeriesKey::of(&point, &self.drop_tags),
            };
            if let Some(entry) = self.entries.remove(&key)
                && entry.forget_at.is_none()
            {
                self.open = self.open.saturating_sub(1);
            }
            self.restore_forgotten(window.len, window.end());
        }
    }
}

/// A point naming `series`'s `window` (a window forgotten), for the journal.
fn write_tombstone(out: &mut LineWriter, series: &SeriesKey, window: Window) {
    let mut p = out.point_raw(series.measurement());
    p.tags_raw(series.tags());
    p.tag(WINDOW_TAG, &format_len(window.len));
    p.field_i64("forgotten", 1);
    // Names taken from a canonical batch: it cannot be refused.
    let _ = p.finish(window.start);
}

#[cfg(test)]
mod tests;
