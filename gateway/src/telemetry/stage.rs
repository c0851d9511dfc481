//! The metrics and events of the stage between the chain and the buffer: edge
//! aggregation and relay merge (`[edge]`, `[merge]`).

use super::Metrics;
use super::metrics::{ReasonLabels, StageLabels};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// The stage's metric families (registered with the others, prefix `sluice_`).
#[derive(Debug, Default)]
pub(crate) struct StageMetrics {
    edge_points_aggregated: Counter,
    edge_points_dropped: Family<ReasonLabels, Counter>,
    merge_sketch_points: Counter,
    merge_corrections: Counter,
    merge_sketch_points_dropped: Family<ReasonLabels, Counter>,
    stage_points_written: Family<StageLabels, Counter>,
    stage_series: Family<StageLabels, Gauge<u64, AtomicU64>>,
}

impl StageMetrics {
    /// Creates and registers the families.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "edge_points_aggregated",
            "Points added to an edge window",
            m.edge_points_aggregated.clone(),
        );
        registry.register(
            "edge_points_dropped",
            "Points an edge dropped, by reason (late: window already written; future: more than a window ahead; max_series: the window holds max_series series)",
            m.edge_points_dropped.clone(),
        );
        registry.register(
            "merge_sketch_points",
            "Sketch points merged by a relay",
            m.merge_sketch_points.clone(),
        );
        registry.register(
            "merge_corrections",
            "Sketch points merged into a window already written (written again)",
            m.merge_corrections.clone(),
        );
        registry.register(
            "merge_sketch_points_dropped",
            "Sketch points a relay dropped, by reason (late: window forgotten; invalid: undecodable or different accuracy; max_series)",
            m.merge_sketch_points_dropped.clone(),
        );
        registry.register(
            "stage_points_written",
            "Summary points the edge or merge stage wrote to the buffer",
            m.stage_points_written.clone(),
        );
        registry.register(
            "stage_series",
            "Series (per window) the edge or merge stage holds in memory",
            m.stage_series.clone(),
        );
        m
    }
}

fn drop_count(family: &Family<ReasonLabels, Counter>, reason: &'static str, n: usize) {
    if n > 0 {
        family
            .get_or_create(&ReasonLabels { reason })
            .inc_by(n as u64);
    }
}

/// Late and future points are answered 204 like any other (InfluxDB would store them):
/// the log says so, at most every [`WARN_EVERY_S`] seconds.
static DROP_WARNINGS: RateLimit = RateLimit::new();

/// Seconds between two warnings about an edge's late or future points.
const WARN_EVERY_S: u64 = 10;

/// Lets one caller through per [`WARN_EVERY_S`] seconds of wall clock.
struct RateLimit {
    /// Unix seconds of the last one let through (0: never).
    last: std::sync::atomic::AtomicU64,
}

impl RateLimit {
    const fn new() -> Self {
        Self {
            last: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether this caller is the one of its period.
    fn due(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last.load(Ordering::Relaxed);
        now.saturating_sub(last) >= WARN_EVERY_S
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// An edge took a batch into its windows.
#[derive(Debug)]
pub struct EdgeIngested {
    /// Points added to a window.
    pub aggregated: usize,
    /// Points for a window already written.
    pub late: usize,
    /// Points more than a window ahead of the clock.
    pub future: usize,
    /// Points of series beyond `max_series`.
    pub over_limit: usize,
    /// Whether a window's `max_series` was reached by this batch (logged once per
    /// window).
    pub limit_reached: bool,
    /// `max_series`, for the log line.
    pub max_series: usize,
}

impl EdgeIngested {
    /// Counts; warns once per window that reaches `max_series`.
    pub fn emit(&self, m: &Metrics) {
        let s = &m.stage;
        s.edge_points_aggregated.inc_by(self.aggregated as u64);
        drop_count(&s.edge_points_dropped, "late", self.late);
        drop_count(&s.edge_points_dropped, "future", self.future);
        drop_count(&s.edge_points_dropped, "max_series", self.over_limit);
        if self.late + self.future > 0 && DROP_WARNINGS.due() {
            tracing::warn!(
                late = self.late,
                future = self.future,
                "edge dropped points outside its open windows (late: window already written, allowed_lateness is over; future: more than a window ahead of the clock); check the load tool's clock and timestamps (sluice_edge_points_dropped_total; logged at most every 10 s)"
            );
        }
        if self.limit_reached {
            tracing::warn!(
                max_series = self.max_series,
                "edge window holds max_series series: points of further series are dropped (sluice_edge_points_dropped_total{{reason=\"max_series\"}}); raise [edge] max_series or drop a high-cardinality tag"
            );
        }
    }
}

/// A relay took a batch into its merge.
#[derive(Debug)]
pub struct MergeIngested {
    /// Sketch points merged.
    pub merged: usize,
    /// Of those, into windows already written.
    pub corrections: usize,
    /// Sketch points for windows forgotten.
    pub late: usize,
    /// Sketches undecodable or of another accuracy.
    pub invalid: usize,
    /// Sketch points beyond `max_series`.
    pub over_limit: usize,
}

impl MergeIngested {
    /// Counts; warns when sketches were dropped (at most once per batch).
    pub fn emit(&self, m: &Metrics) {
        let s = &m.stage;
        s.merge_sketch_points.inc_by(self.merged as u64);
        s.merge_corrections.inc_by(self.corrections as u64);
        drop_count(&s.merge_sketch_points_dropped, "late", self.late);
        drop_count(&s.merge_sketch_points_dropped, "invalid", self.invalid);
        drop_count(
            &s.merge_sketch_points_dropped,
            "max_series",
            self.over_limit,
        );
        if self.invalid + self.over_limit + self.late > 0 {
            tracing::warn!(
                late = self.late,
                invalid = self.invalid,
                max_series = self.over_limit,
                "sketch points dropped by [merge]"
            );
        }
    }
}

/// The stage wrote summaries of closed windows to the buffer.
#[derive(Debug)]
pub struct StageFlushed {
    /// `edge` or `merge`.
    pub stage: &'static str,
    /// Summary points written.
    pub points: usize,
    /// Series still held.
    pub series: usize,
}

impl StageFlushed {
    /// Counts and logs at debug.
    pub fn emit(&self, m: &Metrics) {
        let labels = StageLabels { stage: self.stage };
        m.stage
            .stage_series
            .get_or_create(&labels)
            .set(self.series as u64);
        if self.points > 0 {
            m.stage
                .stage_points_written
                .get_or_create(&labels)
                .inc_by(self.points as u64);
            tracing::debug!(
                stage = self.stage,
                points = self.points,
                series = self.series,
                "windows written"
            );
        }
    }
}

/// Summaries could not be appended to the buffer and were given up.
#[derive(Debug)]
pub struct StageLost<'a> {
    /// `edge` or `merge`.
    pub stage: &'static str,
    /// Summary points lost.
    pub points: usize,
    /// Why.
    pub error: &'a str,
}

impl StageLost<'_> {
    /// Logs at error (data lost) and counts as dropped.
    pub fn emit(&self, m: &Metrics) {
        tracing::error!(
            stage = self.stage,
            points = self.points,
            error = self.error,
            "window summaries lost: the buffer refused them"
        );
        m.points_dropped
            .get_or_create(&ReasonLabels {
                reason: "stage_buffer",
            })
            .inc_by(self.points as u64);
    }
}
