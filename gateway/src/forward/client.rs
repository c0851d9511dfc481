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

    /// A request that got no answer. A timeout is suspect (the store may take the other
    /// requests and never this one); a connection that failed is not about the batch.
    fn unreachable(e: &reqwest::Error) -> Self {
        SendError::Retry {
            kind: if e.is_timeout() { "timeout" } else { "connect" },
            suspect: e.is_timeout(),
            status: None,
            message: redacted_error(e),
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
        let response = self
            .authorize(request)
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
        let url = Url::parse(&url).map_err(|e| SendError::BadUrl {
            url: c.url.clone(),
            reason: e.to_string(),
        })?;
        let mut form = vec![("q", statement)];
        if let Some(db) = db {
            form.push(("db", db));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .client
            .post(url)
            .timeout(c.timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        let response = self
            .authorize(request)
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

    /// `request` with the output's credentials in a header, never in the URL (URLs end
    /// up in error messages, `/health` and logs): a v1 output's `username` and
    /// `password` as HTTP Basic auth (InfluxDB 1.x reads it as it reads `u` and `p`), a
    /// v2 output's `token` as `Authorization: Token …`.
    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let c = &self.config;
        match (c.api, &c.username, &c.password, &c.token) {
            (Api::V1, Some(user), Some(password), _) => request.basic_auth(user, Some(password)),
            (Api::V2, _, _, Some(token)) => {
                let value = format!("Token {token}");
                match reqwest::header::HeaderValue::from_str(&value) {
                    Ok(mut header) => {
                        // Kept out of debug output, as `basic_auth` does for its header.
                        header.set_sensitive(true);
                        request.header(AUTHORIZATION, header)
                    }
                    // Fails at send with the reason.
                    Err(_) => request.header(AUTHORIZATION, value),
                }
            }
            _ => request,
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

/// The text of a transport error (with its causes) with any secret in its URL — a
/// password in the URL's user info, or the value of a `p`, `password` or `token` query
/// parameter — replaced by `redacted`, so it can go to `/health`, logs and clients.
pub fn redacted_error(e: &reqwest::Error) -> String {
    let message = error_chain(e);
    match e.url() {
        Some(url) => message.replace(url.as_str(), redacted_url(url).as_str()),
        None => message,
    }
}

/// `url` with the secrets [`redacted_error`] names replaced by `redacted`.
pub fn redacted_url(url: &Url) -> Url {
    const SECRET_PARAMS: [&str; 3] = ["p", "password", "token"];
    let mut clean = url.clone();
    if clean.password().is_some() {
        // Fails only for URLs that cannot have credentials, which then have none.
        let _cannot_fail = clean.set_password(Some("redacted"));
    }
    if url
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                    "redacted".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    clean
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
    fn v1_url_carries_db_and_rp_and_the_credentials_go_in_a_header() {
        let s = sender("username = \"u\"\npassword = \"p w\"\n");
        let ctx = Context {
            db: "my db".into(),
            rp: Some("rp".into()),
        };
        let url = s.write_url(&ctx).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/write?db=my+db&rp=rp&precision=ns"
        );
        let request = s.authorize(s.client.post(url)).build().unwrap();
        // base64("u:p w")
        assert_eq!(request.headers()[AUTHORIZATION], "Basic dTpwIHc=");
    }

    #[test]
    fn v2_token_goes_in_a_header() {
        let s = sender("api = \"v2\"\ntoken = \"t\"\n");
        let url = s.write_url(&Context::from_bucket("db")).unwrap();
        let request = s.authorize(s.client.post(url)).build().unwrap();
        assert_eq!(request.headers()[AUTHORIZATION], "Token t");
    }

    #[test]
    fn secrets_in_urls_are_redacted() {
        let url =
            Url::parse("http://admin:pw1@127.0.0.1:9/query?u=admin&p=pw1&q=SHOW+USERS").unwrap();
        assert_eq!(
            redacted_url(&url).as_str(),
            "http://admin:redacted@127.0.0.1:9/query?u=admin&p=redacted&q=SHOW+USERS"
        );
        let plain = Url::parse("http://127.0.0.1:9/write?db=a").unwrap();
        assert_eq!(redacted_url(&plain), plain);
    }

    #[tokio::test]
    async fn an_unreachable_store_error_names_no_secret() {
        let e = reqwest::Client::new()
            .get("http://admin:pw1@127.0.0.1:9/query?p=pw1")
            .send()
            .await
            .unwrap_err();
        let text = redacted_error(&e);
        assert!(!text.contains("pw1"), "{text}");
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
