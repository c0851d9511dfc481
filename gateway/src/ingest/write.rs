//! `POST /write` (InfluxDB 1.x) and `POST /api/v2/write` (2.x): authenticate, read the
//! capped body, parse into canonical lines, hand the batch to the pipeline, and answer as
//! InfluxDB would (204; 400 partial write with the good lines kept; 401; 413; 503).

use super::canonical::canonical_batch;
use super::database_name;
use super::error::{Flavor, IngestError};
use super::params::{Params, is_consistency_level};
use super::source::Source;
use super::{AppState, body::read_body};
use crate::batch::{Context, Origin};
use crate::chain::Resend;
use crate::pipeline::AcceptError;
use crate::telemetry::events::LinesDropped;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sluice_lineproto::Precision;

/// `POST /write`.
pub(super) async fn write_v1(
    State(state): State<AppState>,
    Source(source): Source,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let params = Params::parse(raw.as_deref().unwrap_or_default().as_bytes());
        state
            .limits
            .load()
            .tokens
            .authorize(&headers, params.get("p"))?;
        let db = params.non_empty("db").ok_or(IngestError::MissingDb)?;
        if !database_name::is_valid(db) {
            return Err(IngestError::DatabaseNotFound(db.to_owned()));
        }
        let precision_text = params.get("precision").unwrap_or_default();
        let precision = Precision::from_v1(precision_text)
            .ok_or_else(|| IngestError::BadPrecision(precision_text.to_owned()))?;
        let consistency_ok = params
            .non_empty("consistency")
            .is_none_or(is_consistency_level);
        let context = Context {
            db: db.to_owned(),
            rp: params.non_empty("rp").map(str::to_owned),
        };
        let origin = Origin::client(source);
        ingest(
            &state,
            context,
            &origin,
            precision,
            &headers,
            body,
            consistency_ok,
        )
        .await
    }
    .await;
    respond(&state, "write_v1", Flavor::V1, result)
}

/// `POST /api/v2/write`.
pub(super) async fn write_v2(
    State(state): State<AppState>,
    Source(source): Source,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let params = Params::parse(raw.as_deref().unwrap_or_default().as_bytes());
        state.limits.load().tokens.authorize(&headers, None)?;
        let bucket = params
            .non_empty("bucket")
            .filter(|b| !b.starts_with('/'))
            .ok_or(IngestError::MissingBucket)?
            .to_owned();
        let precision_text = params.get("precision").unwrap_or_default();
        let precision = Precision::from_v2(precision_text)
            .ok_or_else(|| IngestError::BadPrecision(precision_text.to_owned()))?;
        let context = Context::from_bucket(&bucket);
        if !database_name::is_valid(&context.db) {
            return Err(IngestError::DatabaseNotFound(context.db));
        }
        let origin = Origin {
            org: params.non_empty("org").map(str::to_owned),
            bucket: Some(bucket.clone()),
            ..Origin::client(source)
        };
        ingest(&state, context, &origin, precision, &headers, body, true).await
    }
    .await;
    respond(&state, "write_v2", Flavor::V2, result)
}

/// Reads, parses and accepts one write; `consistency_ok` is false when a 1.x write
/// named a consistency level InfluxDB does not know.
async fn ingest(
    state: &AppState,
    context: Context,
    origin: &Origin,
    precision: Precision,
    headers: &HeaderMap,
    body: Body,
    consistency_ok: bool,
) -> Result<(), IngestError> {
    let limits = state.limits.load_full();
    let body = read_body(body, headers, limits.max_body).await?;
    let (batch, summary) = canonical_batch(context, &body, precision, &limits.lineproto);
    // InfluxDB 1.x checks `consistency` after parsing: a body of which no line parses
    // gets the parse error, anything else the consistency error, and nothing is written.
    if !consistency_ok {
        let unparsable = summary.points == 0
            && summary
                .first_error
                .as_ref()
                .is_some_and(|e| !e.kind.is_partial_write());
        if !unparsable {
            return Err(IngestError::BadConsistency);
        }
    }
    match state
        .pipeline
        .accept(batch, body.len(), origin, Resend::Possible)
        .await
    {
        Ok(()) => {}
        Err(AcceptError::Full(why)) => return Err(IngestError::Full(why)),
        Err(e @ (AcceptError::Unavailable(_) | AcceptError::BufferUnavailable(_))) => {
            return Err(IngestError::Unavailable(e.to_string()));
        }
        Err(AcceptError::DeadLetter(e)) => {
            tracing::error!(error = %e, "a plugin failed on a batch and the dead-letter store could not keep it; write refused with 500, nothing acknowledged");
            return Err(IngestError::Internal);
        }
        Err(AcceptError::TooLarge(why)) => return Err(IngestError::BatchTooLarge(why)),
        Err(AcceptError::Buffer(e)) => {
            tracing::error!(error = %e, "buffer append failed; write refused with 500, nothing acknowledged");
            return Err(IngestError::Internal);
        }
    }
    match summary.first_error {
        None => Ok(()),
        Some(first) => {
            // InfluxDB 1.x reports what its store drops (a `time` tag or field) as a
            // partial write, even when nothing was kept.
            let partial = summary.points > 0 || first.kind.is_partial_write();
            let first = first.to_string();
            LinesDropped {
                count: summary.dropped,
                first_error: &first,
            }
            .emit(state.pipeline.metrics());
            if !partial {
                Err(IngestError::Unparsable(first))
            } else {
                Err(IngestError::Partial {
                    first,
                    dropped: summary.dropped,
                })
            }
        }
    }
}

fn respond(
    state: &AppState,
    endpoint: &'static str,
    flavor: Flavor,
    result: Result<(), IngestError>,
) -> Response {
    let response = match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response_for(flavor),
    };
    state
        .pipeline
        .metrics()
        .count_request(endpoint, response.status().as_u16());
    response
}
