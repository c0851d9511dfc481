//! Router tests over an in-memory queue: status codes and bodies as InfluxDB answers them.

use super::*;
use crate::batch::Batch;
use crate::buffer::Queue;
use crate::chain::Chain;
use crate::telemetry::Metrics;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::io::Write;
use tower::ServiceExt;

struct Harness {
    router: Router,
    queue: Queue,
    _dead_letters: tempfile::TempDir,
}

fn harness(tokens: &[&str], max_body: usize, max_buffer: u64) -> Harness {
    let queue = Queue::memory(sluice_buffer::MemoryOptions {
        max_size: max_buffer,
        consumers: vec!["out".to_owned()],
    });
    let dead_letter_dir = tempfile::tempdir().unwrap();
    let dead_letters =
        Arc::new(crate::dead_letter::DeadLetters::open(dead_letter_dir.path()).unwrap());
    let outputs = Arc::new(crate::forward::Outputs::new(
        crate::forward::Shared {
            queue: queue.clone(),
            http: reqwest::Client::new(),
            dead_letters: Arc::clone(&dead_letters),
            metrics: Arc::new(Metrics::new()),
            statement_answers: Arc::default(),
        },
        tokio_util::sync::CancellationToken::new(),
    ));
    let pipeline = Arc::new(Pipeline::new(
        Chain::empty(),
        queue.clone(),
        dead_letters,
        Arc::new(Metrics::new()),
    ));
    let state = AppState {
        pipeline,
        limits: Arc::new(arc_swap::ArcSwap::from_pointee(super::Limits {
            tokens: Tokens::new(tokens.iter().map(|t| (*t).to_owned()).collect()),
            max_body,
            lineproto: sluice_lineproto::Options::v1(),
            query_target: None,
        })),
        reloader: None,
        outputs,
        http: reqwest::Client::new(),
    };
    Harness {
        router: router(state),
        queue,
        _dead_letters: dead_letter_dir,
    }
}

async fn send(h: &Harness, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = h.router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).body(body.into()).unwrap()
}

async fn stored(h: &Harness) -> Vec<Batch> {
    let mut consumer = h.queue.consumer("out").unwrap();
    let entries = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        consumer.next(1000, usize::MAX),
    )
    .await
    .map(|r| r.unwrap())
    .unwrap_or_default();
    entries
        .into_iter()
        .map(|e| Batch::decode(e.data).unwrap())
        .collect()
}

#[tokio::test]
async fn ping_answers_204_with_version() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, headers, _) = send(&h, Request::get("/ping").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["x-influxdb-version"], INFLUXDB_VERSION);
    let (status, _, _) = send(&h, Request::head("/ping").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// CORS as InfluxDB 1.x: headers for a request with `Origin`, `200` to a preflight of
/// the write and query endpoints (no token needed), nothing for a request without one.
#[tokio::test]
async fn cross_origin_requests_get_influxdb_cors_headers() {
    let h = harness(&["t"], 1 << 20, 1 << 20);
    for path in ["/write?db=x", "/api/v2/write?bucket=x", "/query"] {
        let req = Request::options(path)
            .header("origin", "http://page.example")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send(&h, req).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, ""), "{path}");
        assert_eq!(
            headers["access-control-allow-origin"],
            "http://page.example"
        );
        assert_eq!(
            headers["access-control-allow-methods"],
            "DELETE, GET, OPTIONS, POST, PUT"
        );
        assert!(
            headers["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("Authorization")
        );
        assert_eq!(
            headers["access-control-expose-headers"],
            "Date, X-InfluxDB-Version, X-InfluxDB-Build"
        );
    }
    let req = Request::get("/ping")
        .header("origin", "http://page.example")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&h, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://page.example"
    );
    let (_, headers, _) = send(&h, Request::get("/ping").body(Body::empty()).unwrap()).await;
    assert!(!headers.contains_key("access-control-allow-origin"));
}

/// Outside the routes, InfluxDB's plain-text answers.
#[tokio::test]
async fn unknown_paths_and_methods_get_influxdb_plain_answers() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, headers, body) =
        send(&h, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "404 page not found\n")
    );
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["x-influxdb-version"], INFLUXDB_VERSION);
    let (status, headers, body) =
        send(&h, Request::get("/write?db=x").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n")
    );
    assert!(headers["allow"].to_str().unwrap().contains("POST"));
}

#[tokio::test]
async fn v1_write_is_canonicalised_into_the_buffer() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, _, body) = send(
        &h,
        post(
            "/write?db=flood&rp=week&precision=s",
            "cpu,host=a v=1 1700000000\r\n",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let batches = stored(&h).await;
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].context().db, "flood");
    assert_eq!(batches[0].context().rp.as_deref(), Some("week"));
    assert_eq!(batches[0].lines(), b"cpu,host=a v=1 1700000000000000000\n");
}

#[tokio::test]
async fn v2_write_maps_bucket() {
    let h = harness(&["t"], 1 << 20, 1 << 20);
    let req = Request::post("/api/v2/write?org=o&bucket=db/rp&precision=ms")
        .header("authorization", "Token t")
        .body(Body::from("m v=1i 1700000000000"))
        .unwrap();
    let (status, _, body) = send(&h, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let batches = stored(&h).await;
    assert_eq!(batches[0].context().db, "db");
    assert_eq!(batches[0].context().rp.as_deref(), Some("rp"));
    assert_eq!(batches[0].lines(), b"m v=1i 1700000000000000000\n");
}

#[tokio::test]
async fn partial_write_keeps_good_lines() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, headers, body) = send(
        &h,
        post(
            "/write?db=d",
            "m v=1 1\nthis is not line protocol\nm v=2 2\n",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("partial write"), "{body}");
    assert!(body.contains("dropped=1"), "{body}");
    assert!(body.starts_with("{\"error\":"), "{body}");
    assert!(headers.contains_key("x-influxdb-error"));
    assert_eq!(stored(&h).await[0].points(), 2);
}

#[tokio::test]
async fn all_bad_lines_is_a_plain_400() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, _, body) = send(&h, post("/write?db=d", "garbage\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("unable to parse"), "{body}");
    assert!(!body.contains("partial write"), "{body}");
}

#[tokio::test]
async fn request_errors() {
    let h = harness(&[], 64, 1 << 20);
    let (status, _, body) = send(&h, post("/write", "m v=1 1\n")).await;
    assert_eq!(
        (status, body.contains("database is required")),
        (StatusCode::BAD_REQUEST, true)
    );
    let (status, _, _) = send(&h, post("/write?db=d&precision=fortnight", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(&h, post("/api/v2/write?org=o", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("\"code\":\"invalid\""), "{body}");
    let (status, _, _) = send(&h, post("/write?db=d", "m v=1 1\n".repeat(10))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, _) = send(&h, post("/write?db=d", "")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn query_parameters_are_read_as_influxdb_reads_them() {
    let h = harness(&[], 1 << 20, 1 << 20);
    // A repeated parameter: the first value wins (Go's `url.Values.Get`).
    let (status, _, body) = send(&h, post("/write?db=a&db=b&rp=r&rp=s", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let batches = stored(&h).await;
    assert_eq!(batches[0].context().db, "a");
    assert_eq!(batches[0].context().rp.as_deref(), Some("r"));
    // `consistency`: any of InfluxDB's levels, in any case; anything else is a 400.
    for level in ["any", "one", "QUORUM", "all", ""] {
        let uri = format!("/write?db=d&consistency={level}");
        let (status, _, body) = send(&h, post(&uri, "m v=1 1\n")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{level}: {body}");
    }
    let (status, _, body) = send(&h, post("/write?db=d&consistency=bogus", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, r#"{"error":"invalid consistency level"}"#);
    // … checked after parsing, as 1.x does: a body of which nothing parses says so.
    let (status, _, body) = send(&h, post("/write?db=d&consistency=bogus", "garbage\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("unable to parse"), "{body}");
}

#[tokio::test]
async fn gzip_bodies_and_bombs() {
    let h = harness(&[], 1000, 1 << 20);
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let req = Request::post("/write?db=d")
        .header("content-encoding", "gzip")
        .body(Body::from(gz(b"m v=1 1\n")))
        .unwrap();
    assert_eq!(send(&h, req).await.0, StatusCode::NO_CONTENT);
    let bomb = gz(&vec![b'#'; 100_000]);
    assert!(bomb.len() < 1000);
    let req = Request::post("/write?db=d")
        .header("content-encoding", "gzip")
        .body(Body::from(bomb))
        .unwrap();
    assert_eq!(send(&h, req).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn auth_v1_and_v2() {
    let h = harness(&["s3cret"], 1 << 20, 1 << 20);
    let (status, _, body) = send(&h, post("/write?db=d", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("unable to parse authentication credentials"),
        "{body}"
    );
    let (status, _, body) = send(&h, post("/write?db=d&u=x&p=wrong", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("authorization failed"), "{body}");
    // An empty `p` or an `Authorization` that does not read as credentials is none.
    let (status, _, body) = send(&h, post("/write?db=d&u=x&p=", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("unable to parse"), "{body}");
    let req = Request::post("/write?db=d")
        .header("authorization", "Basic !!!")
        .body(Body::from("m v=1 1\n"))
        .unwrap();
    let (status, _, body) = send(&h, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("unable to parse"), "{body}");
    let (status, _, _) = send(&h, post("/write?db=d&u=x&p=s3cret", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&h, post("/api/v2/write?bucket=d", "m v=1 1\n")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"code\":\"unauthorized\""), "{body}");
    let (status, _, _) = send(&h, Request::get("/ping").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn full_buffer_is_503_with_retry_after() {
    let h = harness(&[], 1 << 20, 8192);
    let lines = "measurement_with_a_long_name,tag=value field=1 1\n".repeat(50);
    let mut refused = None;
    for _ in 0..10 {
        let (status, headers, body) = send(&h, post("/write?db=d", lines.clone())).await;
        if status != StatusCode::NO_CONTENT {
            refused = Some((status, headers, body));
            break;
        }
    }
    let (status, headers, body) = refused.expect("the buffer never filled");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert!(body.contains("buffer full"), "{body}");
}

#[tokio::test]
async fn create_database_and_other_queries() {
    let h = harness(&[], 1 << 20, 1 << 20);
    let (status, _, body) = send(
        &h,
        post("/query?q=CREATE+DATABASE+%22telegraf%22", Body::empty()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"results":[{"statement_id":0}]}"#);
    let req = Request::post("/query")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("q=CREATE DATABASE x"))
        .unwrap();
    assert_eq!(send(&h, req).await.0, StatusCode::OK);
    let (status, _, body) = send(&h, post("/query?q=SELECT+1", Body::empty())).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(body.contains("error"), "{body}");
}

#[tokio::test]
async fn health_and_metrics() {
    let h = harness(&[], 1 << 20, 1 << 20);
    send(&h, post("/write?db=d", "m v=1 1\n")).await;
    let (status, _, body) = send(&h, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "pass");
    let (_, _, body) = send(&h, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(body.contains("sluice_points_received_total 1"), "{body}");
    assert!(
        body.contains("sluice_requests_total{endpoint=\"write_v1\",status=\"204\"} 1"),
        "{body}"
    );
}
