//! The one mapping from ingest errors to InfluxDB-style responses: the same status codes
//! as InfluxDB, a JSON body in the flavour of the API that was called (1.x `{"error"}`,
//! 2.x `{"code","message"}`) and the `X-Influxdb-Error` header. A 4xx tells the client
//! what was wrong and is not logged as an error; a 5xx logs the real cause.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Which API's error body to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// InfluxDB 1.x: `{"error": "..."}`.
    V1,
    /// InfluxDB 2.x: `{"code": "...", "message": "..."}`.
    V2,
}

/// Why a write (or query) was not fully accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Credentials given, but no valid token among them.
    #[error("authorization failed")]
    Unauthorized,
    /// No credentials at all where a token is required.
    #[error("unable to parse authentication credentials")]
    NoCredentials,
    /// v1 write without `db`.
    #[error("database is required")]
    MissingDb,
    /// v2 write without `bucket`.
    #[error("bucket is required")]
    MissingBucket,
    /// A database name InfluxDB 1.x can never hold (`services/meta` `ValidName`: empty,
    /// `.`, `..`, a `/` or a backslash, or a character that does not print), so no store
    /// has it: influxd's `404 database not found: "name"` (the name quoted as Go's `%q`
    /// quotes it).
    #[error("database not found: {}", go_quote(.0))]
    DatabaseNotFound(String),
    /// Unknown `precision`.
    #[error("invalid precision {0:?}")]
    BadPrecision(String),
    /// `consistency` other than `any`, `one`, `quorum` or `all` (InfluxDB 1.x's
    /// `ErrInvalidConsistencyLevel`).
    #[error("invalid consistency level")]
    BadConsistency,
    /// Body (raw or decoded) over `max_body`.
    #[error("request body too large: limit is {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The batch is larger than the buffer could ever hold.
    #[error("{0}")]
    BatchTooLarge(String),
    /// The body could not be read or decoded.
    #[error("{0}")]
    BadBody(String),
    /// Some lines were bad; the others were accepted.
    #[error("partial write: {first} dropped={dropped}")]
    Partial {
        /// The first parse error, InfluxDB-style.
        first: String,
        /// Lines dropped.
        dropped: usize,
    },
    /// Every line was bad.
    #[error("{0}")]
    Unparsable(String),
    /// Backpressure: the buffer is full.
    #[error("{0}; retry later")]
    Full(String),
    /// A plugin's dependency is unavailable; nothing was kept.
    #[error("{0}; retry later")]
    Unavailable(String),
    /// The query is not one Sluice can answer and there is no output to proxy it to.
    #[error("{0}")]
    NotImplemented(String),
    /// The query proxy could not reach the store.
    #[error("query proxy: {0}")]
    BadGateway(String),
    /// Something failed on our side (disk error); details are in the log.
    #[error("internal error")]
    Internal,
}

impl IngestError {
    /// HTTP status, as InfluxDB answers the same condition.
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized | IngestError::NoCredentials => StatusCode::UNAUTHORIZED,
            IngestError::MissingDb
            | IngestError::MissingBucket
            | IngestError::BadPrecision(_)
            | IngestError::BadConsistency
            | IngestError::BadBody(_)
            | IngestError::Partial { .. }
            | IngestError::Unparsable(_) => StatusCode::BAD_REQUEST,
            IngestError::TooLarge { .. } | IngestError::BatchTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::DatabaseNotFound(_) => StatusCode::NOT_FOUND,
            IngestError::Full(_) | IngestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            IngestError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            IngestError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn v2_code(&self) -> &'static str {
        match self {
            IngestError::Unauthorized | IngestError::NoCredentials => "unauthorized",
            IngestError::TooLarge { .. } | IngestError::BatchTooLarge(_) => "request too large",
            IngestError::Full(_) | IngestError::Unavailable(_) => "unavailable",
            IngestError::NotImplemented(_) => "not implemented",
            IngestError::DatabaseNotFound(_) => "not found",
            IngestError::BadGateway(_) | IngestError::Internal => "internal error",
            _ => "invalid",
        }
    }

    /// The response in the given API's flavour.
    pub fn into_response_for(self, flavor: Flavor) -> Response {
        let status = self.status();
        let message = match (&self, flavor) {
            (IngestError::Unauthorized | IngestError::NoCredentials, Flavor::V2) => {
                "unauthorized access".to_owned()
            }
            // InfluxDB 1.x's words (`http.StatusText(413)`); the limit is in the log.
            (IngestError::TooLarge { limit }, Flavor::V1) => {
                tracing::debug!(limit, "request body over max_body refused");
                "Request Entity Too Large".to_owned()
            }
            _ => self.to_string(),
        };
        let body = match flavor {
            Flavor::V1 => serde_json::json!({ "error": message }),
            Flavor::V2 => serde_json::json!({ "code": self.v2_code(), "message": message }),
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&header_safe(&message)) {
            headers.insert("x-influxdb-error", v);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"InfluxDB\""),
            );
        }
        response
    }
}

/// Header values cannot hold control characters; keep them short too.
fn header_safe(message: &str) -> String {
    message
        .chars()
        .take(512)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` quoted as Go's `%q` quotes it: `"` and `\\` escaped, the control characters
/// with their short escapes or `\xNN`, everything else as it is.
fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_name_no_store_holds_is_404_quoted_as_influxd_quotes_it() {
        let e = IngestError::DatabaseNotFound("w\nnl \"q\" \\ \u{1}é".into());
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.to_string(),
            r#"database not found: "w\nnl \"q\" \\ \x01é""#
        );
    }

    #[test]
    fn too_large_is_influxd_s_text_on_v1_and_names_the_limit_on_v2() {
        let body = |flavor| {
            let r = IngestError::TooLarge { limit: 10 }.into_response_for(flavor);
            assert_eq!(r.status(), 413);
            r.headers()["x-influxdb-error"].to_str().unwrap().to_owned()
        };
        assert_eq!(body(Flavor::V1), "Request Entity Too Large");
        assert_eq!(
            body(Flavor::V2),
            "request body too large: limit is 10 bytes"
        );
    }

    #[test]
    fn v1_and_v2_bodies() {
        let r = IngestError::MissingDb.into_response_for(Flavor::V1);
        assert_eq!(r.status(), 400);
        assert!(r.headers().contains_key("x-influxdb-error"));
        let r = IngestError::Full("x".into()).into_response_for(Flavor::V2);
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
    }

    #[test]
    fn partial_write_message_matches_influxdb() {
        let e = IngestError::Partial {
            first: "unable to parse 'x': missing fields".into(),
            dropped: 2,
        };
        assert_eq!(
            e.to_string(),
            "partial write: unable to parse 'x': missing fields dropped=2"
        );
    }

    #[test]
    fn header_value_never_fails_on_newlines() {
        assert_eq!(header_safe("a\nb"), "a b");
    }
}
