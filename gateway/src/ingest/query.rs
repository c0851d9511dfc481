//! `GET|POST /query`: statements that must take effect in order with the writes (`CREATE
//! DATABASE`, `CREATE RETENTION POLICY`, what Telegraf, Kapacitor and the `influx` CLI send
//! before writing, and the `DROP`, `DELETE` and `ALTER RETENTION POLICY` statements; see
//! [`crate::statement`]) are kept durably in the buffer, and every InfluxDB 1.x output
//! applies them in order with the writes. The client gets the store's answer when it comes
//! within [`ANSWER_WAIT`] (so a database it created exists when it reads, and a parse
//! error is a 400), else InfluxDB's success answer. Every other query is proxied to the
//! first output when it is an InfluxDB 1.x, and otherwise answered 501 with a clear JSON
//! error.

use super::AppState;
use super::error::{Flavor, IngestError};
use super::params::Params;
use crate::config::{Api, Config};
use crate::forward::redacted_error;
use crate::pipeline::AcceptError;
use crate::statement::{Statement, StatementKind};
use crate::statement_answers::{ANSWER_WAIT, StatementAnswer, Ticket};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
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
    // An `Arc`, not a guard: the proxied request may take a while.
    let limits = state.limits.load_full();
    if !statements.is_empty() && statements.iter().all(|s| StatementKind::of(s).is_some()) {
        let db = params.non_empty("db").map(str::to_owned);
        // Worth waiting for only when an InfluxDB 1.x output applies them.
        let wait = limits.query_target.is_some();
        let mut tickets = Vec::with_capacity(statements.len());
        for text in &statements {
            let ticket = wait.then(|| state.outputs.statement_answers().ticket());
            let statement = Statement {
                db: db.clone(),
                text: (*text).to_owned(),
                ticket: ticket.as_ref().map_or(0, Ticket::number),
            };
            state
                .pipeline
                .append_statement(&statement)
                .await
                .map_err(statement_error)?;
            tickets.push(ticket);
        }
        return Ok(statement_results(tickets).await);
    }
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

/// The answer to statements kept in the buffer, one ticket each (`None`: nobody
/// answers): the store's, as far as it answered within [`ANSWER_WAIT`], else InfluxDB's
/// success result for each statement. A statement the store refused as a query (`400
/// error parsing query`) is the answer, as influxd gives it for the whole query.
async fn statement_results(tickets: Vec<Option<Ticket>>) -> Response {
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    let mut results = Vec::with_capacity(tickets.len());
    for (i, ticket) in tickets.into_iter().enumerate() {
        let answer = match ticket {
            Some(ticket) => ticket.answer_by(deadline).await,
            None => None,
        };
        match answer {
            Some(StatementAnswer::Refused { status, error }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                return (status, axum::Json(serde_json::json!({ "error": error }))).into_response();
            }
            Some(StatementAnswer::Result { error: Some(error) }) => {
                results.push(serde_json::json!({ "statement_id": i, "error": error }));
            }
            Some(StatementAnswer::Result { error: None }) | None => {
                results.push(serde_json::json!({ "statement_id": i }));
            }
        }
    }
    axum::Json(serde_json::json!({ "results": results })).into_response()
}

/// What the client is told when a statement could not be kept in the buffer.
fn statement_error(e: AcceptError) -> IngestError {
    match e {
        AcceptError::Full(why) => IngestError::Full(why),
        AcceptError::BufferUnavailable(why) => IngestError::Unavailable(why),
        other => {
            tracing::error!(error = %other, "cannot keep a statement in the buffer; query refused with 500");
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
