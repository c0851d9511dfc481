//! What a store's error answer means for the batch, decided as InfluxDB's own clients
//! decide it — by status *and* error text (Telegraf's `influxdb` output: `database not
//! found` → create it; `partial write`, `unable to parse`, `field type conflict`, points
//! beyond retention → drop; everything else → keep and retry). Sluice keeps what
//! Telegraf drops, in the dead-letter store.
//!
//! Three outcomes:
//! - **retry**: the output cannot take anything now (connect error, 429, 503, a 5xx the
//!   text says is load): buffering, for as long as it lasts;
//! - **suspect**: a 5xx (or 401/403, or a 404 that names no database) the text does not
//!   explain, and a timeout (the client's own, `408` or a proxy's `504`: a request too
//!   large or slow for the store or a proxy in front of it): an outage while the output
//!   refuses everything, a batch-specific refusal while it keeps accepting other batches
//!   (the forwarder tells which);
//! - **rejected**: refused for good (400, 413, 422, `database not found`, `retention
//!   policy not found` — InfluxDB 1.x answers that one with 500 on every try).

/// InfluxDB 1.x / 2.x error texts that refuse the data itself, whatever the status.
/// Sources: influxdb 1.x `services/httpd/handler.go` and `tsdb` errors, 2.x
/// `http/write_handler.go`; Telegraf `plugins/outputs/influxdb/http.go`.
const PERMANENT_TEXTS: &[&str] = &[
    "retention policy not found",
    "database not found",
    "partial write",
    "unable to parse",
    "field type conflict",
    "points beyond retention policy",
    "max-values-per-tag limit exceeded",
    "max-series-per-database limit exceeded",
    "series limit exceeded",
];

/// Error texts of a store that is overloaded, not refusing the data: retried for ever.
const TRANSIENT_TEXTS: &[&str] = &[
    "timeout",
    "cache maximum memory size exceeded",
    "cache-max-memory-size",
    "hinted handoff queue not empty",
    "write failed: context deadline exceeded",
];

/// How the forwarder treats a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Retry with backoff until it lands; never dead-lettered.
    Retry,
    /// Retry; dead-letter only once it has failed `max_attempts` times (or for
    /// `max_batch_age`) while the output accepted other batches.
    Suspect,
    /// Refused for good: dead-letter (after splitting a coalesced request).
    Rejected(Refusal),
}

/// Why the store refused a batch for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// InfluxDB 1.x `404 database not found`: create it and send again, when allowed.
    DatabaseNotFound,
    /// `413`: the request is too large; halves may pass.
    TooLarge,
    /// Anything else about the data.
    Data,
}

/// Classifies an HTTP error answer: `status` (not 2xx) and the store's error message.
pub fn classify(status: u16, message: &str) -> Class {
    let text = message.to_ascii_lowercase();
    let says = |list: &[&str]| list.iter().any(|t| text.contains(t));
    match status {
        404 if text.contains("database not found") => Class::Rejected(Refusal::DatabaseNotFound),
        // InfluxDB 2.x: `bucket "name" not found`.
        404 if text.contains("bucket") && text.contains("not found") => {
            Class::Rejected(Refusal::Data)
        }
        413 => Class::Rejected(Refusal::TooLarge),
        429 | 503 => Class::Retry,
        // A timeout may be this request's doing (too large, too slow to apply).
        408 | 504 => Class::Suspect,
        _ if says(PERMANENT_TEXTS) => Class::Rejected(Refusal::Data),
        // 401/403: credentials or a permission — output-wide until someone fixes them,
        // unless the output keeps accepting other batches (no write access to one db).
        401 | 403 | 404 => Class::Suspect,
        400..=499 => Class::Rejected(Refusal::Data),
        _ if says(TRANSIENT_TEXTS) => Class::Retry,
        _ => Class::Suspect,
    }
}

/// The message of an InfluxDB error body: 1.x `{"error":"…"}`, 2.x
/// `{"code":"…","message":"…"}`, or the text itself.
pub fn error_message(body: &str) -> String {
    let body = body.trim();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body) {
        for key in ["error", "message"] {
            if let Some(serde_json::Value::String(m)) = map.get(key) {
                return m.clone();
            }
        }
    }
    body.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influxdb_answers() {
        use Class::*;
        use Refusal::*;
        for (status, body, class) in [
            (
                500,
                r#"{"error":"retention policy not found: weekly"}"#,
                Rejected(Data),
            ),
            (
                404,
                r#"{"error":"database not found: \"lazy\""}"#,
                Rejected(DatabaseNotFound),
            ),
            (
                404,
                r#"{"code":"not found","message":"bucket \"b\" not found"}"#,
                Rejected(Data),
            ),
            (404, "404 page not found", Suspect),
            (
                404,
                r#"{"code":"not found","message":"bucket not found"}"#,
                Rejected(Data),
            ),
            (
                400,
                r#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=1"}"#,
                Rejected(Data),
            ),
            (
                400,
                r#"{"error":"unable to parse 'x': missing fields"}"#,
                Rejected(Data),
            ),
            (
                500,
                r#"{"error":"partial write: max-values-per-tag limit exceeded (100000/100000)"}"#,
                Rejected(Data),
            ),
            (413, "", Rejected(TooLarge)),
            (
                422,
                r#"{"code":"unprocessable entity","message":"points beyond retention policy"}"#,
                Rejected(Data),
            ),
            (429, "", Retry),
            (503, "", Retry),
            (504, "<html>504 Gateway Time-out</html>", Suspect),
            (408, "", Suspect),
            (500, r#"{"error":"timeout"}"#, Retry),
            (
                500,
                r#"{"error":"engine: cache maximum memory size exceeded"}"#,
                Retry,
            ),
            (500, r#"{"error":"something broke"}"#, Suspect),
            (502, "bad gateway", Suspect),
            (401, r#"{"error":"authorization failed"}"#, Suspect),
            (
                403,
                r#"{"error":"user not authorized to write to database \"x\""}"#,
                Suspect,
            ),
        ] {
            assert_eq!(
                classify(status, &error_message(body)),
                class,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn messages() {
        assert_eq!(error_message(r#"{"error":"x y"}"#), "x y");
        assert_eq!(error_message(r#"{"code":"c","message":"m"}"#), "m");
        assert_eq!(error_message(" plain text \n"), "plain text");
        assert_eq!(error_message("[1]"), "[1]");
    }
}
