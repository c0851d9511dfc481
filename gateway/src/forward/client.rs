//! One write request to a store (InfluxDB 1.x, 2.x, or another Sluice), and what its
//! answer means for the batch: delivered, retry later, or rejected for good.

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
    /// Worth retrying: connection refused or reset, timeout, 5xx, 429.
    #[error("{message}")]
    Retry {
        /// `connect`, `timeout`, `status_5xx`, `status_429`.
        kind: &'static str,
        /// What happened.
        message: String,
        /// The store's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The store refused the data (4xx other than 429): retrying would fail the same way.
    #[error("store answered {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Start of the store's error body.
        body: String,
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
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() { "timeout" } else { "connect" };
                return Err(SendError::Retry {
                    kind,
                    message: error_chain(&e),
                    retry_after: None,
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(500).collect();
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Retry {
                kind: if status.as_u16() == 429 {
                    "status_429"
                } else {
                    "status_5xx"
                },
                message: format!("store answered {status}: {}", body.trim()),
                retry_after,
            })
        } else {
            Err(SendError::Rejected {
                status: status.as_u16(),
                body: body.trim().to_owned(),
            })
        }
    }
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
