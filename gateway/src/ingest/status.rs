//! `/ping`, `/health` and `/metrics`: what load balancers, InfluxDB clients and
//! Prometheus ask, answered without authentication.

use super::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The InfluxDB API version Sluice answers as (the 1.8 line: v1 plus the v2 write API).
pub const INFLUXDB_VERSION: &str = "1.8.10";

/// `?verbose=true` of `/ping`.
#[derive(Debug, Deserialize)]
pub(super) struct PingParams {
    verbose: Option<String>,
}

/// `GET|HEAD /ping`: 204 (200 with the version when `verbose=true`).
pub(super) async fn ping(params: Result<Query<PingParams>, QueryRejection>) -> Response {
    let verbose = params
        .ok()
        .and_then(|Query(p)| p.verbose)
        .is_some_and(|v| v == "true" || v == "1");
    if verbose {
        axum::Json(serde_json::json!({ "version": INFLUXDB_VERSION })).into_response()
    } else {
        // influxd sends its JSON content type with the empty 204 too.
        (
            StatusCode::NO_CONTENT,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
        )
            .into_response()
    }
}

/// `GET /health`: status, plugin chain, buffer depth, outputs' state. `200` with status
/// `pass`, or `503` with status `fail` and the reason while the buffer refuses writes
/// (full, or Redis out of reach), so a load balancer sends them to another gateway.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    let stats = state.pipeline.queue().stats();
    let outputs: Vec<_> = state.outputs.health().iter().map(|o| o.report()).collect();
    let refusing = state.pipeline.refusing_writes();
    let (status, word, message) = match &refusing {
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "fail",
            format!("writes refused: {reason}"),
        ),
        None => (
            StatusCode::OK,
            "pass",
            "ready for queries and writes".to_owned(),
        ),
    };
    let body = serde_json::json!({
        "name": "sluice",
        "status": word,
        "message": message,
        "version": env!("CARGO_PKG_VERSION"),
        "chain": state.pipeline.chain().names(),
        "active_chain": state.pipeline.chain().describe(),
        "reload": state.reloader.as_ref().map(|r| r.report()),
        "buffer": stats_json(&stats),
        "outputs": outputs,
    });
    (status, axum::Json(body)).into_response()
}

fn stats_json(stats: &sluice_buffer::Stats) -> serde_json::Value {
    let consumers: serde_json::Map<String, serde_json::Value> = stats
        .consumers
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                serde_json::json!({ "pending_records": c.pending_records, "pending_bytes": c.pending_bytes }),
            )
        })
        .collect();
    let mut json = serde_json::json!({
        "bytes": stats.retained_bytes,
        "records": stats.records,
        "segments": stats.segments,
        "max_bytes": stats.max_size,
        "pending": consumers,
    });
    if let Some(redis) = &stats.redis {
        let streams: Vec<serde_json::Value> = stats
            .streams
            .iter()
            .map(|s| {
                let groups: Vec<serde_json::Value> = s
                    .groups
                    .iter()
                    .map(|g| serde_json::json!({ "group": g.name, "pending": g.pending, "lag": g.lag }))
                    .collect();
                serde_json::json!({ "stream": s.key, "length": s.length, "groups": groups })
            })
            .collect();
        json["streams"] = serde_json::Value::Array(streams);
        json["redis"] = serde_json::json!({
            "reachable": redis.reachable,
            "error": redis.error,
            "eviction_policy": redis.eviction_policy,
            "groups_recreated": redis.groups_recreated,
        });
    }
    json
}

/// `GET /metrics`: Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = state.pipeline.metrics();
    let stats = state.pipeline.queue().stats();
    metrics.buffer_bytes.set(stats.retained_bytes);
    metrics.buffer_max_bytes.set(stats.max_size);
    for c in &stats.consumers {
        let labels = crate::telemetry::OutputLabels {
            output: c.name.clone(),
        };
        metrics
            .buffer_pending_records
            .get_or_create(&labels)
            .set(c.pending_records);
        metrics
            .buffer_pending_bytes
            .get_or_create(&labels)
            .set(c.pending_bytes);
    }
    for stream in &stats.streams {
        let labels = crate::telemetry::StreamLabels {
            stream: stream.key.clone(),
        };
        metrics
            .stream_entries
            .get_or_create(&labels)
            .set(stream.length);
        for group in &stream.groups {
            let labels = crate::telemetry::GroupLabels {
                stream: stream.key.clone(),
                group: group.name.clone(),
            };
            metrics
                .group_pending
                .get_or_create(&labels)
                .set(group.pending);
            metrics
                .group_lag
                .get_or_create(&labels)
                .set(group.lag.unwrap_or(0));
        }
    }
    if let Some(redis) = &stats.redis {
        metrics.groups_recreated.set(redis.groups_recreated);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}
