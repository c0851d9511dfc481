//! The ingest stage: InfluxDB-compatible HTTP endpoints and UDP listeners. Every write is
//! authenticated, read through one capped decoder, parsed once into canonical line
//! protocol and handed to the [`Pipeline`](crate::pipeline::Pipeline); the response
//! follows InfluxDB's status codes and error bodies, down to CORS (`cors`) and what lies
//! outside the routes (`fallback`).

mod admin;
mod auth;
mod body;
mod canonical;
mod cors;
mod database_name;
mod error;
mod fallback;
mod limits;
mod params;
mod query;
mod source;
mod status;
mod udp;
mod write;

pub use auth::Tokens;
pub use canonical::{canonical_batch, now_ns};
pub use error::{Flavor, IngestError};
pub use limits::Limits;
pub use query::QueryTarget;
pub use status::INFLUXDB_VERSION;
pub use udp::UdpListener;

use crate::forward::Outputs;
use crate::pipeline::Pipeline;
use crate::reload::Reloader;
use arc_swap::ArcSwap;
use axum::Router;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

/// What every HTTP handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Chain + buffer.
    pub pipeline: Arc<Pipeline>,
    /// Tokens, body size, line-protocol rules: swapped whole by a reload.
    pub limits: Arc<ArcSwap<Limits>>,
    /// Applies reloads (`POST /admin/reload`; `None`: reloads are off, as in unit tests).
    pub reloader: Option<Arc<Reloader>>,
    /// The running forwarders; their state is listed by `/health`.
    pub outputs: Arc<Outputs>,
    /// HTTP client for the query proxy.
    pub http: reqwest::Client,
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/write", post(write::write_v1).options(cors::preflight))
        .route(
            "/api/v2/write",
            post(write::write_v2).options(cors::preflight),
        )
        .route("/ping", get(status::ping))
        .route(
            "/query",
            get(query::query)
                .post(query::query)
                .options(cors::preflight),
        )
        .route("/health", get(status::health))
        .route("/metrics", get(status::metrics))
        .route("/admin/reload", post(admin::reload))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(axum::middleware::from_fn(cors::cors))
        .layer(axum::middleware::map_response(influx_headers))
        .with_state(state)
}

/// InfluxDB puts its version on every response; clients use it to detect the server.
async fn influx_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        "x-influxdb-version",
        HeaderValue::from_static(INFLUXDB_VERSION),
    );
    headers.insert("x-influxdb-build", HeaderValue::from_static("Sluice"));
    response
}

#[cfg(test)]
mod tests;
