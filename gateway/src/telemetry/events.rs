//! Observable occurrences. Each `emit` writes the log line and updates the metrics, so the
//! two always agree. ERROR is reserved for data at risk or an operator who must act.

use super::Metrics;
use super::metrics::{
    OutputErrorLabels, OutputLabels, PluginErrorLabels, PluginLabels, ReasonLabels, StageLabels,
};
use std::time::Duration;

/// A batch was durably accepted.
#[derive(Debug)]
pub struct BatchAccepted {
    /// Points in the batch.
    pub points: usize,
    /// Line-protocol bytes received for it.
    pub bytes: usize,
}

impl BatchAccepted {
    /// Counts the batch (no log line: this happens per request).
    pub fn emit(&self, m: &Metrics) {
        m.points_received.inc_by(self.points as u64);
        m.bytes_received.inc_by(self.bytes as u64);
        m.batch_points.observe(self.points as f64);
    }
}

/// Lines of a request failed to parse and were dropped (the client was told with a 400).
#[derive(Debug)]
pub struct LinesDropped<'a> {
    /// Lines dropped.
    pub count: usize,
    /// The first parse error.
    pub first_error: &'a str,
}

impl LinesDropped<'_> {
    /// Logs at debug (the client got the reason) and counts.
    pub fn emit(&self, m: &Metrics) {
        tracing::debug!(
            dropped = self.count,
            error = self.first_error,
            "invalid lines dropped"
        );
        m.points_dropped
            .get_or_create(&ReasonLabels { reason: "parse" })
            .inc_by(self.count as u64);
    }
}

/// A write was refused because the buffer is full (backpressure: the client retries).
#[derive(Debug)]
pub struct BufferFull {
    /// Points refused.
    pub points: usize,
}

impl BufferFull {
    /// Warns and counts.
    pub fn emit(&self, m: &Metrics) {
        tracing::warn!(points = self.points, "buffer full: write refused with 503");
        m.points_refused
            .get_or_create(&ReasonLabels {
                reason: "buffer_full",
            })
            .inc_by(self.points as u64);
    }
}

/// A coalesced request reached an output.
#[derive(Debug)]
pub struct OutputDelivered<'a> {
    /// Output name.
    pub output: &'a str,
    /// Points in the request.
    pub points: usize,
    /// Time the successful attempt took.
    pub elapsed: Duration,
}

impl OutputDelivered<'_> {
    /// Counts (no log line: this happens per request).
    pub fn emit(&self, m: &Metrics) {
        let labels = OutputLabels {
            output: self.output.to_owned(),
        };
        m.output_points
            .get_or_create(&labels)
            .inc_by(self.points as u64);
        m.output_requests.get_or_create(&labels).inc();
        m.output_latency
            .get_or_create(&labels)
            .observe(self.elapsed.as_secs_f64());
    }
}

/// A request to an output failed and will be retried.
#[derive(Debug)]
pub struct OutputRetrying<'a> {
    /// Output name.
    pub output: &'a str,
    /// `connect`, `timeout`, `status_5xx`, `status_429`.
    pub kind: &'static str,
    /// Failures in a row so far.
    pub attempt: u32,
    /// Delay before the next attempt.
    pub delay: Duration,
    /// What went wrong.
    pub error: &'a str,
}

impl OutputRetrying<'_> {
    /// Warns on the first failures, then every 10th so an outage does not flood the log.
    pub fn emit(&self, m: &Metrics) {
        if self.attempt <= 3 || self.attempt.is_multiple_of(10) {
            tracing::warn!(
                output = self.output,
                attempt = self.attempt,
                retry_in = ?self.delay,
                error = self.error,
                "output unavailable, batch kept in the buffer and retried"
            );
        }
        m.output_errors
            .get_or_create(&OutputErrorLabels {
                output: self.output.to_owned(),
                kind: self.kind,
            })
            .inc();
        m.output_retries
            .get_or_create(&OutputLabels {
                output: self.output.to_owned(),
            })
            .inc();
    }
}

/// An output came back after failures.
#[derive(Debug)]
pub struct OutputRecovered<'a> {
    /// Output name.
    pub output: &'a str,
    /// Failures before this success.
    pub failures: u32,
}

impl OutputRecovered<'_> {
    /// Logs at info.
    pub fn emit(&self) {
        tracing::info!(
            output = self.output,
            failures = self.failures,
            "output reachable again, delivering buffered batches"
        );
    }
}

/// A batch went to the dead-letter store (a store rejected it, or a plugin failed on it).
#[derive(Debug)]
pub struct DeadLettered<'a> {
    /// `output` or `plugin`.
    pub stage: &'static str,
    /// Output or plugin name.
    pub source: &'a str,
    /// Points in the batch.
    pub points: usize,
    /// Why.
    pub error: &'a str,
    /// Entry id in the store.
    pub id: &'a str,
}

impl DeadLettered<'_> {
    /// Errors (an operator must look at it) and counts.
    pub fn emit(&self, m: &Metrics) {
        tracing::error!(
            stage = self.stage,
            source = self.source,
            points = self.points,
            id = self.id,
            error = self.error,
            "batch dead-lettered; inspect with `sluice dlq list`, replay with `sluice dlq replay`"
        );
        let labels = StageLabels { stage: self.stage };
        m.dead_lettered_batches.get_or_create(&labels).inc();
        m.dead_lettered_points
            .get_or_create(&labels)
            .inc_by(self.points as u64);
        if self.stage == "output" {
            m.output_errors
                .get_or_create(&OutputErrorLabels {
                    output: self.source.to_owned(),
                    kind: "rejected",
                })
                .inc();
        }
    }
}

/// An output did not have a batch's database, and the forwarder created it (v1,
/// `create_database = true`) before sending the batch again.
#[derive(Debug)]
pub struct DatabaseCreated<'a> {
    /// Output name.
    pub output: &'a str,
    /// The database.
    pub db: &'a str,
}

impl DatabaseCreated<'_> {
    /// Logs at info and counts.
    pub fn emit(&self, m: &Metrics) {
        tracing::info!(
            output = self.output,
            db = self.db,
            "database not found on the output: created it, sending again"
        );
        m.databases_created
            .get_or_create(&OutputLabels {
                output: self.output.to_owned(),
            })
            .inc();
    }
}

/// A reload was applied: the chain of `generation` serves every batch from now on.
#[derive(Debug)]
pub struct ReloadApplied<'a> {
    /// What asked for it: `admin`, `signal`, `watch`.
    pub trigger: &'a str,
    /// The new chain's generation.
    pub generation: u64,
    /// What changed and now applies, by config section.
    pub applied: &'a [String],
    /// What changed but needs a restart.
    pub restart_needed: &'a [String],
    /// From the trigger to the new chain serving.
    pub elapsed: std::time::Duration,
}

impl ReloadApplied<'_> {
    /// Logs at info (warn when part of the change needs a restart) and counts.
    pub fn emit(&self, m: &Metrics) {
        if self.restart_needed.is_empty() {
            tracing::info!(
                trigger = self.trigger,
                generation = self.generation,
                applied = ?self.applied,
                elapsed_ms = self.elapsed.as_millis(),
                "reload applied"
            );
        } else {
            tracing::warn!(
                trigger = self.trigger,
                generation = self.generation,
                applied = ?self.applied,
                restart_needed = ?self.restart_needed,
                elapsed_ms = self.elapsed.as_millis(),
                "reload applied in part: the rest needs a restart"
            );
        }
        m.reloads
            .get_or_create(&super::metrics::ReloadLabels { result: "applied" })
            .inc();
    }
}

/// A reload failed at `stage`; the running chain and settings stay.
#[derive(Debug)]
pub struct ReloadFailed<'a> {
    /// What asked for it.
    pub trigger: &'a str,
    /// `config`, `load`, `canary`.
    pub stage: &'a str,
    /// Why.
    pub error: &'a str,
}

impl ReloadFailed<'_> {
    /// Logs at error and counts.
    pub fn emit(&self, m: &Metrics) {
        tracing::error!(
            trigger = self.trigger,
            stage = self.stage,
            error = self.error,
            "reload refused; the running chain keeps serving"
        );
        m.reloads
            .get_or_create(&super::metrics::ReloadLabels { result: "failed" })
            .inc();
    }
}

/// A plugin processed (or failed on) a batch.
#[derive(Debug)]
pub struct PluginRan<'a> {
    /// Plugin name.
    pub plugin: &'a str,
    /// Time the call took.
    pub elapsed: Duration,
}

impl PluginRan<'_> {
    /// Observes the latency (no log line: this happens per batch).
    pub fn emit(&self, m: &Metrics) {
        m.plugin_latency
            .get_or_create(&PluginLabels {
                plugin: self.plugin.to_owned(),
            })
            .observe(self.elapsed.as_secs_f64());
    }
}

/// A plugin failed on a batch; the chain took the plugin's `on_error` path (or refused
/// the batch, when the plugin's dependency is unavailable and the client can retry).
#[derive(Debug)]
pub struct PluginFailed<'a> {
    /// Plugin name.
    pub plugin: &'a str,
    /// Failure kind (`timeout`, `trap`, `memory_limit`, …).
    pub kind: &'static str,
    /// `dead-letter`, `pass`, `drop` or `refused`.
    pub action: &'static str,
    /// Points in the batch.
    pub points: usize,
    /// The error.
    pub error: &'a str,
}

impl PluginFailed<'_> {
    /// Warns and counts; a dropped batch is also counted in `points_dropped`.
    pub fn emit(&self, m: &Metrics) {
        tracing::warn!(
            plugin = self.plugin,
            kind = self.kind,
            action = self.action,
            points = self.points,
            error = self.error,
            "plugin failed on a batch"
        );
        m.plugin_errors
            .get_or_create(&PluginErrorLabels {
                plugin: self.plugin.to_owned(),
                kind: self.kind,
                action: self.action,
            })
            .inc();
        let (family, reason) = match self.action {
            "drop" => (&m.points_dropped, "plugin"),
            "refused" => (&m.points_refused, "plugin_unavailable"),
            _ => return,
        };
        family
            .get_or_create(&ReasonLabels { reason })
            .inc_by(self.points as u64);
    }
}
