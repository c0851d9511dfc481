//! `GET|POST /query`: `CREATE DATABASE` and `CREATE RETENTION POLICY` (what Telegraf,
//! Kapacitor and the `influx` CLI send before writing) are kept durably in the buffer and
//! answered as InfluxDB answers them; every InfluxDB 1.x output applies them in order with
//! the writes (see [`crate::statement`]). Every other query is proxied to the first output
//! when it is an InfluxDB 1.x, and otherwise answered 501 with a clear JSON error.

use super::AppState;
use super::error::{Flavor, IngestError};
use super::params::Params;
use crate::config::{Api, Config};
use crate::forward::redacted_error;
use crate::pipeline::AcceptError;
use crate::statement::{Statement, StatementKind};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;

/// Where non-CREATE queries go: the first output, if it speaks InfluxDB 1.x.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTarget {
    /// Base URL of the store.
    pub url: String,
    /// Credentials sent as HTTP Basic auth when Sluice's tokens are on (the client's are
    /// taken out of the URL), or when the client's URL holds none.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
}

impl QueryTarget {
    /// The first of `config`'s outputs when it is an InfluxDB 1.x (`api = "v1"`).
    pub fn from_config(config: &Config) -> Option<Self> {
        config
            .outputs
            .first()
            .filter(|o| o.api == Api::V1)
            .map(|o| Self {
                url: o.url.clone(),
                username: o.username.clone(),
                password: o.password.clone(),
            })
    }
}

const MAX_QUERY_BODY: usize = 1024 * 1024;

/// `GET|POST /query`.
pub(super) async fn query(
    State(state): State<AppState>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match answer(&state, method, raw, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response_for(Flavor::V1),
    };
    state
        .pipeline
        .metrics()
        .count_request("query", response.status().as_u16());
    response
}

async fn answer(
    state: &AppState,
    method: Method,
    raw: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, IngestError> {
    let raw = raw.unwrap_or_default();
    let body = http_body_util::Limited::new(body, MAX_QUERY_BODY)
        .collect()
        .await
        .map_err(|_| IngestError::TooLarge {
            limit: MAX_QUERY_BODY,
        })?
        .to_bytes();
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let url_params = Params::parse(raw.as_bytes());
    let mut params = Params::parse(raw.as_bytes());
    if is_form {
        params.extend(Params::parse(&body));
    }
    state
        .limits
        .load()
        .tokens
        .authorize(&headers, params.get("p"))?;
    let q = params.get("q").unwrap_or("");
    let statements: Vec<&str> = q
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !statements.is_empty() && statements.iter().all(|s| StatementKind::of(s).is_some()) {
        let db = params.non_empty("db").map(str::to_owned);
        for text in &statements {
            let statement = Statement {
                db: db.clone(),
                text: (*text).to_owned(),
            };
            state
                .pipeline
                .append_statement(&statement)
                .await
                .map_err(statement_error)?;
        }
        let results: Vec<_> = (0..statements.len())
            .map(|i| serde_json::json!({ "statement_id": i }))
            .collect();
        return Ok(axum::Json(serde_json::json!({ "results": results })).into_response());
    }
    // An `Arc`, not a guard: the proxied request may take a while.
    let limits = state.limits.load_full();
    let Some(target) = &limits.query_target else {
        return Err(IngestError::NotImplemented(format!(
            "sluice answers only CREATE DATABASE and CREATE RETENTION POLICY and has no InfluxDB 1.x output to proxy {:?} to",
            truncate(q, 80)
        )));
    };
    // Which credentials influxd gets. With Sluice's tokens on, the client's were checked
    // against them (and may be a Sluice token): they are taken out of the URL and the
    // store gets the output's own. With tokens off, the client's own go through, and
    // the output's are added only when the URL holds none (influxd reads `u` and `p`
    // there, both non-empty, before any header).
    let client_credentials = ["u", "p"]
        .iter()
        .all(|key| url_params.non_empty(key).is_some());
    let (query, add_output_credentials) = if limits.tokens.is_empty() {
        (raw.clone(), !client_credentials)
    } else {
        (url_params.without(&["u", "p"]), true)
    };
    proxy(
        state,
        target,
        method,
        &query,
        &headers,
        body,
        add_output_credentials,
    )
    .await
}

/// What the client is told when a statement could not be kept in the buffer.
fn statement_error(e: AcceptError) -> IngestError {
    match e {
        AcceptError::Full(why) => IngestError::Full(why),
        AcceptError::BufferUnavailable(why) => IngestError::Unavailable(why),
        other => {
            tracing::error!(error = %other, "cannot keep a schema statement in the buffer; query refused with 500");
            IngestError::Internal
        }
    }
}

async fn proxy(
    state: &AppState,
    target: &QueryTarget,
    method: Method,
    raw_query: &str,
    headers: &HeaderMap,
    body: Bytes,
    add_output_credentials: bool,
) -> Result<Response, IngestError> {
    let mut url = format!("{}/query", target.url.trim_end_matches('/'));
    if !raw_query.is_empty() {
        url.push('?');
        url.push_str(raw_query);
    }
    let url = reqwest::Url::parse(&url).map_err(|e| IngestError::BadGateway(e.to_string()))?;
    let mut request = state.http.request(method, url).body(body);
    // The output's credentials go in a header (never in the URL, which error messages
    // quote); see `answer` for when.
    if add_output_credentials && let (Some(u), Some(p)) = (&target.username, &target.password) {
        request = request.basic_auth(u, Some(p));
    }
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(v) = headers.get(&name) {
            request = request.header(name, v);
        }
    }
    let upstream = request
        .send()
        .await
        .map_err(|e| IngestError::BadGateway(redacted_error(&e)))?;
    let status = upstream.status();
    let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = upstream
        .bytes()
        .await
        .map_err(|e| IngestError::BadGateway(redacted_error(&e)))?;
    let mut response = (status, bytes).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(response)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
