//! Every metric the gateway exports, in one place, all prefixed `sluice_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels of an HTTP request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `write_v1`, `write_v2`, `query`, `udp`.
    pub endpoint: &'static str,
    /// HTTP status answered (0 for UDP).
    pub status: u16,
}

/// Labels of per-output metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutputLabels {
    /// The output's configured name.
    pub output: String,
}

/// Labels of a Redis buffer stream (shard).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StreamLabels {
    pub(crate) stream: String,
}

/// Labels of a consumer group on a Redis buffer stream.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct GroupLabels {
    pub(crate) stream: String,
    pub(crate) group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabels {
    pub(crate) reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutputErrorLabels {
    pub(crate) output: String,
    pub(crate) kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PluginLabels {
    pub(crate) plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PluginErrorLabels {
    pub(crate) plugin: String,
    pub(crate) kind: &'static str,
    pub(crate) action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReloadLabels {
    /// `applied` or `failed`.
    pub(crate) result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StageLabels {
    pub(crate) stage: &'static str,
}

/// The gateway's metric families; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) points_received: Counter,
    pub(crate) bytes_received: Counter,
    pub(crate) points_dropped: Family<ReasonLabels, Counter>,
    pub(crate) points_refused: Family<ReasonLabels, Counter>,
    pub(crate) batch_points: Histogram,
    pub(crate) buffer_bytes: Gauge<u64, AtomicU64>,
    pub(crate) buffer_max_bytes: Gauge<u64, AtomicU64>,
    pub(crate) buffer_pending_records: Family<OutputLabels, Gauge<u64, AtomicU64>>,
    pub(crate) buffer_pending_bytes: Family<OutputLabels, Gauge<u64, AtomicU64>>,
    pub(crate) stream_entries: Family<StreamLabels, Gauge<u64, AtomicU64>>,
    pub(crate) group_pending: Family<GroupLabels, Gauge<u64, AtomicU64>>,
    pub(crate) group_lag: Family<GroupLabels, Gauge<u64, AtomicU64>>,
    pub(crate) groups_recreated: Gauge<u64, AtomicU64>,
    pub(crate) output_points: Family<OutputLabels, Counter>,
    pub(crate) output_requests: Family<OutputLabels, Counter>,
    pub(crate) output_errors: Family<OutputErrorLabels, Counter>,
    pub(crate) output_retries: Family<OutputLabels, Counter>,
    pub(crate) output_latency: Family<OutputLabels, Histogram>,
    pub(crate) databases_created: Family<OutputLabels, Counter>,
    pub(crate) reloads: Family<ReloadLabels, Counter>,
    pub(crate) dead_lettered_batches: Family<StageLabels, Counter>,
    pub(crate) dead_lettered_points: Family<StageLabels, Counter>,
    pub(crate) plugin_latency: Family<PluginLabels, Histogram>,
    pub(crate) plugin_errors: Family<PluginErrorLabels, Counter>,
    pub(crate) stage: super::stage::StageMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every family.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sluice");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Write and query requests by endpoint and status",
            requests.clone(),
        );
        let points_received = Counter::default();
        registry.register(
            "points_received",
            "Points accepted at ingest (after parsing)",
            points_received.clone(),
        );
        let bytes_received = Counter::default();
        registry.register(
            "bytes_received",
            "Line-protocol bytes received (decoded)",
            bytes_received.clone(),
        );
        let points_dropped = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "points_dropped",
            "Points dropped at ingest, by reason (parse: invalid lines)",
            points_dropped.clone(),
        );
        let points_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "points_refused",
            "Points refused with an error status (the client keeps them), by reason",
            points_refused.clone(),
        );
        let batch_points = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        registry.register(
            "batch_points",
            "Points per accepted batch",
            batch_points.clone(),
        );
        let buffer_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "buffer_bytes",
            "Bytes retained in the buffer",
            buffer_bytes.clone(),
        );
        let buffer_max_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "buffer_max_bytes",
            "Configured buffer capacity in bytes",
            buffer_max_bytes.clone(),
        );
        let buffer_pending_records = Family::<OutputLabels, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "buffer_pending_records",
            "Records not yet delivered, per output",
            buffer_pending_records.clone(),
        );
        let buffer_pending_bytes = Family::<OutputLabels, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "buffer_pending_bytes",
            "Bytes not yet delivered, per output",
            buffer_pending_bytes.clone(),
        );
        let stream_entries = Family::<StreamLabels, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "buffer_stream_entries",
            "Entries in each stream (shard) of the Redis buffer",
            stream_entries.clone(),
        );
        let group_pending = Family::<GroupLabels, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "buffer_group_pending",
            "Entries delivered to a consumer group of the Redis buffer and not acknowledged, per stream",
            group_pending.clone(),
        );
        let group_lag = Family::<GroupLabels, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "buffer_group_lag",
            "Entries of a Redis buffer stream not yet delivered to a consumer group",
            group_lag.clone(),
        );
        let groups_recreated = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "buffer_groups_recreated",
            "Consumer groups re-created after NOGROUP (the stream or group had vanished: an alarm)",
            groups_recreated.clone(),
        );
        let output_points = Family::<OutputLabels, Counter>::default();
        registry.register(
            "output_points",
            "Points delivered to an output",
            output_points.clone(),
        );
        let output_requests = Family::<OutputLabels, Counter>::default();
        registry.register(
            "output_requests",
            "Successful write requests to an output",
            output_requests.clone(),
        );
        let output_errors = Family::<OutputErrorLabels, Counter>::default();
        registry.register(
            "output_errors",
            "Failed write requests to an output, by kind",
            output_errors.clone(),
        );
        let output_retries = Family::<OutputLabels, Counter>::default();
        registry.register(
            "output_retries",
            "Retries of write requests to an output",
            output_retries.clone(),
        );
        let output_latency = Family::<OutputLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 14))) as fn() -> Histogram,
        );
        registry.register(
            "output_request_seconds",
            "Latency of successful output writes",
            output_latency.clone(),
        );
        let databases_created = Family::<OutputLabels, Counter>::default();
        registry.register(
            "databases_created",
            "Databases an output did not have and the forwarder created (v1, create_database)",
            databases_created.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads of the config and plugins, by result (applied, failed)",
            reloads.clone(),
        );
        let dead_lettered_batches = Family::<StageLabels, Counter>::default();
        registry.register(
            "dead_lettered_batches",
            "Batches written to the dead-letter store, by stage",
            dead_lettered_batches.clone(),
        );
        let dead_lettered_points = Family::<StageLabels, Counter>::default();
        registry.register(
            "dead_lettered_points",
            "Points written to the dead-letter store, by stage",
            dead_lettered_points.clone(),
        );
        let plugin_latency = Family::<PluginLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.000_05, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register(
            "plugin_seconds",
            "Time one batch spent in a plugin",
            plugin_latency.clone(),
        );
        let plugin_errors = Family::<PluginErrorLabels, Counter>::default();
        registry.register(
            "plugin_errors",
            "Batches a plugin failed on, by failure kind and the on_error action taken",
            plugin_errors.clone(),
        );
        let stage = super::stage::StageMetrics::register(&mut registry);
        Self {
            registry,
            stage,
            requests,
            points_received,
            bytes_received,
            points_dropped,
            points_refused,
            batch_points,
            buffer_bytes,
            buffer_max_bytes,
            buffer_pending_records,
            buffer_pending_bytes,
            stream_entries,
            group_pending,
            group_lag,
            groups_recreated,
            output_points,
            output_requests,
            output_errors,
            output_retries,
            output_latency,
            databases_created,
            reloads,
            dead_lettered_batches,
            dead_lettered_points,
            plugin_latency,
            plugin_errors,
        }
    }

    /// Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error here would be a bug in the encoder.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Counts one answered request.
    pub fn count_request(&self, endpoint: &'static str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, status })
            .inc();
    }
}
