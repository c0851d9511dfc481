//! Cross-origin requests as InfluxDB 1.x answers them (`services/httpd/handler.go`
//! `cors`): a request with an `Origin` gets the same `Access-Control-*` headers, and an
//! `OPTIONS` preflight to the write and query endpoints is answered `200` with no body,
//! so browser clients (`@influxdata/influxdb-client` in a web page) can write through
//! Sluice.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Methods InfluxDB 1.x allows across origins.
const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, POST, PUT";
/// Request headers InfluxDB 1.x allows across origins.
const ALLOW_HEADERS: &str = "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token, X-HTTP-Method-Override";
/// Response headers InfluxDB 1.x lets a page read.
const EXPOSE_HEADERS: &str = "Date, X-InfluxDB-Version, X-InfluxDB-Build";

/// Adds InfluxDB's CORS headers to the response of a request that carries `Origin`.
pub(super) async fn cors(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    response
}

/// `OPTIONS` on `/write`, `/api/v2/write` and `/query`: `200`, no body.
pub(super) async fn preflight() {}
