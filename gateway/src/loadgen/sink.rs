//! `sluice bench sink`: an InfluxDB-compatible endpoint that only counts what it is sent,
//! to measure a relay (or a load generator) without a store's limits in the way.
//!
//! `POST /write` and `POST /api/v2/write` (gzip or not) count points and answer `204`;
//! `GET /ping` answers `204`; `GET /stats` answers `{"points", "requests", "bytes",
//! "uptime_s"}` (`bytes`: bodies as received, before gzip decoding). It listens on
//! loopback only unless told otherwise, and stops by itself after its duration.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// What the sink counted.
#[derive(Debug)]
struct Counts {
    points: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
    started: Instant,
}

/// Why the sink could not run.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The address is not on loopback and `--allow-remote` was not given.
    #[error("refusing to listen on {0}: not a loopback address (pass --allow-remote to insist)")]
    NotLoopback(SocketAddr),
    /// Binding or serving failed.
    #[error("sink on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Serves until `duration` has passed or the process is interrupted; prints the address
/// it listens on (useful with port 0) and, at the end, what it counted.
///
/// Errors: [`SinkError`].
pub async fn serve(
    listen: SocketAddr,
    duration: Duration,
    allow_remote: bool,
) -> Result<(), SinkError> {
    if !listen.ip().is_loopback() && !allow_remote {
        return Err(SinkError::NotLoopback(listen));
    }
    let io = |source| SinkError::Io {
        addr: listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(io)?;
    let local = listener.local_addr().map_err(io)?;
    println!("sink listening on http://{local}");
    let counts = Arc::new(Counts {
        points: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        started: Instant::now(),
    });
    let app = Router::new()
        .route("/write", post(write))
        .route("/api/v2/write", post(write))
        .route("/ping", get(ping).head(ping))
        .route("/stats", get(stats))
        .with_state(Arc::clone(&counts));
    let stop = async move {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .map_err(io)?;
    println!("{}", snapshot(&counts));
    Ok(())
}

async fn write(
    State(counts): State<Arc<Counts>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let gzipped = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let points = if gzipped {
        let mut plain = Vec::with_capacity(body.len() * 4);
        match flate2::read::MultiGzDecoder::new(body.as_ref()).read_to_end(&mut plain) {
            Ok(_) => count_points(&plain),
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(serde_json::json!({ "error": format!("bad gzip body: {e}") })),
                )
                    .into_response();
            }
        }
    } else {
        count_points(&body)
    };
    counts.points.fetch_add(points, Ordering::Relaxed);
    counts.requests.fetch_add(1, Ordering::Relaxed);
    counts.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    StatusCode::NO_CONTENT.into_response()
}

/// Points in canonical line protocol (what a relay forwards), as the chain counts them.
fn count_points(body: &[u8]) -> u64 {
    crate::chain::count_points(body) as u64
}

async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn stats(State(counts): State<Arc<Counts>>) -> impl IntoResponse {
    axum::Json(snapshot(&counts))
}

fn snapshot(counts: &Counts) -> serde_json::Value {
    serde_json::json!({
        "points": counts.points.load(Ordering::Relaxed),
        "requests": counts.requests.load(Ordering::Relaxed),
        "bytes": counts.bytes.load(Ordering::Relaxed),
        "uptime_s": counts.started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_counted_not_newlines() {
        let body = b"cpu v=1 1\nlog msg=\"two\nlines\" 2\ncpu v=2 3\n";
        assert_eq!(count_points(body), 3);
    }

    #[test]
    fn bodies_without_strings_count_their_non_empty_lines() {
        for (body, points) in [
            (&b""[..], 0),
            (b"\n\n", 0),
            (b"cpu v=1 1", 1),
            (b"cpu v=1 1\n", 1),
            (b"\ncpu v=1 1\n\ncpu v=2 2", 2),
            (b"a,t=x\\ y v=1i 1\nb v=2 2\nc v=3 3\n", 3),
            // A backslash before a line feed continues the line (1.x's `scanLine`).
            (b"m,t=a\\\nb v=1 5\n", 1),
        ] {
            assert_eq!(
                count_points(body),
                points,
                "{:?}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(
                count_points(body),
                sluice_lineproto::trusted_points(body).count() as u64,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
