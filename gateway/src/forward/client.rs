//! One write request to a store (InfluxDB 1.x, 2.x, or another Sluice), and what its
//! answer means for the batch: delivered, retry later, or rejected for good.

use super::refusal::{Class, Refusal, classify, error_message};
use super::retry::parse_retry_after;
use crate::batch::Context;
use crate::config::{Api, OutputConfig};
use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use std::time::Duration;

/// Why a request did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: connection refused or reset, timeout, 429, 503, or a 5xx (see
    /// [`Class`] for which are suspects).
    #[error("{message}")]
    Retry {
        /// `connect`, `timeout`, `status_5xx`, `status_429`, `status_4xx`.
        kind: &'static str,
        /// Whether the failure may be about this batch alone ([`Class::Suspect`]).
        suspect: bool,
        /// HTTP status, when the store answered.
        status: Option<u16>,
        /// What happened.
        message: String,
        /// The store's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The store refused the data: retrying would fail the same way.
    #[error("store answered {status}: {message}")]
    Rejected {
        /// HTTP status (200 for a statement whose result holds an error).
        status: u16,
        /// The store's error message.
        message: String,
        /// What kind of refusal.
        refusal: Refusal,
    },
    /// The output's URL cannot be used.
    #[error("invalid output url {url:?}: {reason}")]
    BadUrl {
        /// The configured URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl SendError {
    /// The error for a non-2xx answer, classified by status and message.
    fn from_answer(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let message = error_message(body);
        match classify(status, &message) {
            Class::Rejected(refusal) => SendError::Rejected {
                status,
                message,
                refusal,
            },
            class => SendError::Retry {
                kind: match status {
                    429 => "status_429",
                    500..=599 => "status_5xx",
                    _ => "status_4xx",
                },
                suspect: class == Class::Suspect,
                status: Some(status),
                message: format!("store answered {status}: {message}"),
                retry_after,
            },
        }
    }

    fn unreachable(e: &reqwest::Error) -> Self {
        SendError::Retry {
            kind: if e.is_timeout() { "timeout" } else { "connect" },
            suspect: false,
            status: None,
            message: error_chain(e),
            retry_after: None,
        }
    }
}

/// Sends write requests to one output.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    config: OutputConfig,
}

impl Sender {
    /// A sender for `config`, sharing `client`'s connection pool.
    pub fn new(client: reqwest::Client, config: OutputConfig) -> Self {
        Self { client, config }
    }

    /// The write URL for a batch context.
    pub fn write_url(&self, context: &Context) -> Result<Url, SendError> {
        let c = &self.config;
        let base = c.url.trim_end_matches('/');
        let path = match c.api {
            Api::V1 => "/write",
            Api::V2 => "/api/v2/write",
        };
        let mut url = Url::parse(&format!("{base}{path}")).map_err(|e| SendError::BadUrl {
            url: c.url.clone(),
            reason: e.to_string(),
        })?;
        {
            let mut q = url.query_pairs_mut();
            match c.api {
                Api::V1 => {
                    q.append_pair("db", &context.db);
                    if let Some(rp) = &context.rp {
                        q.append_pair("rp", rp);
                    }
                    if let (Some(u), Some(p)) = (&c.username, &c.password) {
                        q.append_pair("u", u);
                        q.append_pair("p", p);
                    }
                }
                Api::V2 => {
                    if let Some(org) = &c.org {
                        q.append_pair("org", org);
                    }
                    let bucket = c.bucket.clone().unwrap_or_else(|| context.bucket());
                    q.append_pair("bucket", &bucket);
                }
            }
            q.append_pair("precision", "ns");
        }
        Ok(url)
    }

    /// Sends one body (already gzipped when `gzipped`) and classifies the answer.
    pub async fn send(
        &self,
        context: &Context,
        body: Bytes,
        gzipped: bool,
    ) -> Result<(), SendError> {
        let url = self.write_url(context)?;
        let mut request = self
            .client
            .post(url)
            .timeout(self.config.timeout)
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(body);
        if gzipped {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        if let (Api::V2, Some(token)) = (self.config.api, &self.config.token) {
            request = request.header(AUTHORIZATION, format!("Token {token}"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError::unreachable(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(error_answer(response).await)
    }

    /// Runs one InfluxQL statement (`CREATE DATABASE …`) on a v1 output's `/query`, with
    /// its credentials. A `200` whose result carries an `error` is
    /// [`SendError::Rejected`] with status 200, as InfluxDB reports statement errors.
    pub async fn query(&self, statement: &str, db: Option<&str>) -> Result<(), SendError> {
        let c = &self.config;
        let url = format!("{}/query", c.url.trim_end_matches('/'));
        let mut url = Url::parse(&url).map_err(|e| SendError::BadUrl {
            url: c.url.clone(),
            reason: e.to_string(),
        })?;
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            url.query_pairs_mut()
                .append_pair("u", u)
                .append_pair("p", p);
        }
        let mut form = vec![("q", statement)];
        if let Some(db) = db {
            form.push(("db", db));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .client
            .post(url)
            .timeout(c.timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::unreachable(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(error_answer(response).await);
        }
        let body = response.text().await.unwrap_or_default();
        match statement_error(&body) {
            None => Ok(()),
            Some(message) => Err(SendError::Rejected {
                status: status.as_u16(),
                message,
                refusal: Refusal::Data,
            }),
        }
    }

    /// Creates `db` on this (v1) output: `CREATE DATABASE "db"` (idempotent in InfluxDB).
    pub async fn create_database(&self, db: &str) -> Result<(), SendError> {
        self.query(&format!("CREATE DATABASE {}", quote_identifier(db)), None)
            .await
    }
}

/// The classified error of a non-2xx response.
async fn error_answer(response: reqwest::Response) -> SendError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = response.text().await.unwrap_or_default();
    SendError::from_answer(status, &body, retry_after)
}

/// The first `error` among a `/query` answer's results, if any.
fn statement_error(body: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    if let Some(e) = json.get("error").and_then(|e| e.as_str()) {
        return Some(e.to_owned());
    }
    json.get("results")?
        .as_array()?
        .iter()
        .find_map(|r| r.get("error").and_then(|e| e.as_str()).map(str::to_owned))
}

/// An InfluxQL double-quoted identifier (InfluxQL spec: `\` and `\"` escape inside).
pub(super) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_escape(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn sender(extra: &str) -> Sender {
        let config = Config::parse(&format!(
            "[[outputs]]\nname = \"o\"\nurl = \"http://127.0.0.1:9/\"\n{extra}"
        ))
        .unwrap();
        Sender::new(reqwest::Client::new(), config.outputs[0].clone())
    }

    #[test]
    fn v1_url_carries_db_rp_and_credentials() {
        let s = sender("username = \"u\"\npassword = \"p w\"\n");
        let ctx = Context {
            db: "my db".into(),
            rp: Some("rp".into()),
        };
        assert_eq!(
            s.write_url(&ctx).unwrap().as_str(),
            "http://127.0.0.1:9/write?db=my+db&rp=rp&u=u&p=p+w&precision=ns"
        );
    }

    #[test]
    fn v2_url_maps_context_to_bucket() {
        let s = sender("api = \"v2\"\norg = \"acme\"\ntoken = \"t\"\n");
        let ctx = Context::from_bucket("db/rp");
        assert_eq!(
            s.write_url(&ctx).unwrap().as_str(),
            "http://127.0.0.1:9/api/v2/write?org=acme&bucket=db%2Frp&precision=ns"
        );
    }
}
