//! [`Aggregator`]: the open windows of an edge and the sketches in them.

use crate::batch::{Batch, Context};
use crate::config::EdgeConfig;
use crate::quantile::window::nanos;
use crate::quantile::wire::{WINDOW_TAG, into_batches, write_summary};
use crate::quantile::{Quantile, SeriesKey, Sketch, Window};
use sluice_lineproto::{FieldValue, LineWriter, trusted_points};
use std::collections::{BTreeMap, HashMap};

/// The sketches of one series in one window, one per field, in order of first sight.
type FieldSketches = Vec<(String, Sketch)>;

/// One window that is still open.
#[derive(Debug, Default)]
struct OpenWindow {
    /// Per routing context, per series.
    series: HashMap<Context, HashMap<SeriesKey, FieldSketches>>,
    /// Series held, across contexts.
    count: usize,
    /// Whether `max_series` turned a point away in this window.
    limited: bool,
}

/// What [`Aggregator::ingest`] did with a batch.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Points without an aggregated field, to forward as they are.
    pub passthrough: Option<Batch>,
    /// Points added to a window.
    pub aggregated: usize,
    /// Points for a window already closed.
    pub late: usize,
    /// Points more than one window ahead of the clock.
    pub future: usize,
    /// Points of a series beyond `max_series` in its window.
    pub over_limit: usize,
    /// Whether this batch was the first a window's `max_series` turned away.
    pub limit_reached: bool,
}

/// What [`Aggregator::flush`] wrote.
#[derive(Debug, Default)]
pub struct Flushed {
    /// One batch of summary points per routing context.
    pub batches: Vec<Batch>,
    /// Windows written.
    pub windows: usize,
    /// Summary points written.
    pub points: usize,
}

/// The open windows of an edge: points go in with [`Aggregator::ingest`], summaries of
/// the windows that closed come out of [`Aggregator::flush`]. Times are Unix
/// nanoseconds; the caller passes the wall clock in, so tests control it.
#[derive(Debug)]
pub struct Aggregator {
    /// Window length, ns.
    window: i64,
    /// How long after its end a window stays open, ns.
    lateness: i64,
    /// Written as `pNN` fields.
    quantiles: Vec<Quantile>,
    /// Fields aggregated; empty is every numeric one.
    fields: Vec<String>,
    /// Tags removed before grouping.
    drop_tags: Vec<String>,
    /// Relative accuracy of new sketches.
    accuracy: f64,
    /// Most series per window.
    max_series: usize,
    /// Open windows by start.
    windows: BTreeMap<i64, OpenWindow>,
}

impl Aggregator {
    /// An aggregator with no open window.
    pub fn new(config: &EdgeConfig) -> Self {
        Self {
            window: nanos(config.window).max(1),
            lateness: nanos(config.allowed_lateness),
            quantiles: Quantile::list(&config.quantiles),
            fields: config.fields.clone(),
            drop_tags: config.drop_tags.clone(),
            accuracy: config.accuracy,
            max_series: config.max_series,
            windows: BTreeMap::new(),
        }
    }

    /// How often the owner should call [`Aggregator::flush`]: a tenth of the window,
    /// between 50 ms and 1 s.
    pub fn tick(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(u64::try_from(self.window / 10).unwrap_or(0)).clamp(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_secs(1),
        )
    }

    /// Most series per window.
    pub fn max_series(&self) -> usize {
        self.max_series
    }

    /// Series held across the open windows.
    pub fn series(&self) -> usize {
        self.windows.values().map(|w| w.count).sum()
    }

    /// Adds the points of `batch` to their windows, at wall-clock time `now`.
    pub fn ingest(&mut self, batch: &Batch, now: i64) -> Ingested {
        let mut done = Ingested::default();
        let mut passthrough: Option<LineWriter> = None;
        for point in trusted_points(batch.lines()) {
            // The batch is canonical (ingest made it so, the host checked plugin output).
            let Ok(point) = point else { continue };
            // Summaries of another edge (edge behind edge) go on as they are.
            if point.tag(WINDOW_TAG).is_some() {
                passthrough
                    .get_or_insert_with(LineWriter::new)
                    .push_point(&point);
                continue;
            }
            // (name, value) of the fields aggregated.
            let mut values: Vec<(std::borrow::Cow<'_, str>, f64)> = Vec::new();
            for field in point.fields() {
                let value = match field.value() {
                    Some(FieldValue::Float(v)) => v,
                    Some(FieldValue::Integer(v)) => v as f64,
                    _ => continue,
                };
                let name = field.key().to_string_lossy();
                if !self.fields.is_empty() && !self.fields.iter().any(|f| *f == name) {
                    continue;
                }
                values.push((name, value));
            }
            if values.is_empty() {
                passthrough
                    .get_or_insert_with(LineWriter::new)
                    .push_point(&point);
                continue;
            }
            let window = Window::containing(point.timestamp(), self.window);
            if window.end().saturating_add(self.lateness) <= now {
                done.late += 1;
                continue;
            }
            if window.start > now.saturating_add(self.window) {
                done.future += 1;
                continue;
            }
            let open = self.windows.entry(window.start).or_default();
            let series = SeriesKey::of(&point, &self.drop_tags);
            let by_context = match open.series.get_mut(batch.context()) {
                Some(m) => m,
                None => open.series.entry(batch.context().clone()).or_default(),
            };
            let sketches = match by_context.get_mut(&series) {
                Some(s) => s,
                None if open.count >= self.max_series => {
                    done.over_limit += 1;
                    done.limit_reached |= !open.limited;
                    open.limited = true;
                    continue;
                }
                None => {
                    open.count += 1;
                    by_context.entry(series).or_default()
                }
            };
            for (name, value) in values {
                match sketches.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, sketch)) => sketch.add(value),
                    None => {
                        let mut sketch = Sketch::new(self.accuracy);
                        sketch.add(value);
                        sketches.push((name.to_string(), sketch));
                    }
                }
            }
            done.aggregated += 1;
        }
        done.passthrough = passthrough
            .filter(|w| w.points() > 0)
            .map(|w| Batch::from_lines(batch.context().clone(), w.as_bytes(), w.points()));
        done
    }

    /// Writes and forgets the windows that closed by `now` (end plus `allowed_lateness`
    /// passed), or every open window when `all` (on shutdown).
    pub fn flush(&mut self, now: i64, all: bool) -> Flushed {
        let mut flushed = Flushed::default();
        let mut writers: HashMap<Context, LineWriter> = HashMap::new();
        while let Some(entry) = self.windows.first_entry() {
            let window = Window {
                start: *entry.key(),
                len: self.window,
            };
            if !all && window.end().saturating_add(self.lateness) > now {
                break;
            }
            let open = entry.remove();
            flushed.windows += 1;
            for (context, series) in open.series {
                let out = writers.entry(context).or_default();
                for (key, sketches) in &series {
                    let fields = sketches.iter().map(|(n, s)| (n.as_str(), s));
                    if write_summary(out, key, window, fields, &self.quantiles, true) {
                        flushed.points += 1;
                    }
                }
            }
        }
        flushed.batches = into_batches(writers);
        flushed
    }
}

#[cfg(test)]
mod tests;
