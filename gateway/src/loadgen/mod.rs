//! `sluice bench`: a load generator that behaves like N load-test nodes, each writing
//! batches of line protocol at every tick, as the load-testing tools do. It reports
//! points/s acknowledged and request latency. It refuses non-loopback targets unless told
//! otherwise, and always stops after `duration`.

mod lines;

pub use lines::flood_batch;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// Base URL of the target (a Sluice or an InfluxDB).
    pub url: String,
    /// Database to write to.
    pub db: String,
    /// Concurrent simulated nodes.
    pub nodes: usize,
    /// Total points per second to aim for; 0 = as fast as the target accepts.
    pub rate: u64,
    /// How long to run.
    pub duration: Duration,
    /// Points per request.
    pub batch: usize,
    /// Allow a target that is not on the loopback interface.
    pub allow_remote: bool,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Points in requests answered 2xx.
    pub points_ok: u64,
    /// Requests answered 2xx.
    pub requests_ok: u64,
    /// Requests answered otherwise or failed.
    pub requests_failed: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Median request latency.
    pub p50: Duration,
    /// 99th percentile request latency.
    pub p99: Duration,
}

impl BenchReport {
    /// Acknowledged points per second.
    pub fn points_per_second(&self) -> f64 {
        self.points_ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The URL does not parse.
    #[error("invalid url {0:?}")]
    BadUrl(String),
    /// The target is not on loopback and `--allow-remote` was not given.
    #[error("refusing to load {0}: not a loopback address (pass --allow-remote to insist)")]
    NotLoopback(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Runs the load and returns the report.
pub async fn run(spec: BenchSpec) -> Result<BenchReport, BenchError> {
    let url = reqwest::Url::parse(&spec.url).map_err(|_| BenchError::BadUrl(spec.url.clone()))?;
    let host = url
        .host_str()
        .ok_or_else(|| BenchError::BadUrl(spec.url.clone()))?;
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback && !spec.allow_remote {
        return Err(BenchError::NotLoopback(host.to_owned()));
    }
    let mut write = url
        .join("/write")
        .map_err(|_| BenchError::BadUrl(spec.url.clone()))?;
    write.query_pairs_mut().append_pair("db", &spec.db);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(spec.nodes)
        .build()?;
    let nodes = spec.nodes.max(1);
    let per_node_rate = spec.rate as f64 / nodes as f64;
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let deadline = started + spec.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for node in 0..nodes {
        let client = client.clone();
        let url = write.clone();
        let counters = Arc::clone(&counters);
        let batch = spec.batch.max(1);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut seq: u64 = 0;
            while Instant::now() < deadline {
                let body = flood_batch(node, seq, batch);
                seq += 1;
                let sent = Instant::now();
                let ok = client
                    .post(url.clone())
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(sent.elapsed());
                if ok {
                    counters.points.fetch_add(batch as u64, Ordering::Relaxed);
                    counters.ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                }
                if per_node_rate > 0.0 {
                    let due = started
                        + Duration::from_secs_f64(seq as f64 * batch as f64 / per_node_rate);
                    if due > Instant::now() {
                        tokio::time::sleep_until(due.min(deadline).into()).await;
                    }
                }
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(mut l) = joined {
            latencies.append(&mut l);
        }
    }
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(BenchReport {
        points_ok: counters.points.load(Ordering::Relaxed),
        requests_ok: counters.ok.load(Ordering::Relaxed),
        requests_failed: counters.failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        p50: pick(0.5),
        p99: pick(0.99),
    })
}

#[derive(Debug, Default)]
struct Counters {
    points: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
}
