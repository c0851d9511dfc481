//! `sluice bench`: a load generator that behaves like N load-test nodes, each writing
//! batches of line protocol at every tick, as the load-testing tools do; and `sluice bench
//! sink`, a store that only counts what it is sent ([`sink`]).
//!
//! Without `--spread`, nodes tick together at wall-clock-aligned instants, as aggregators
//! on many load generators do (the worst case for a relay); with it, each node has its own
//! phase, so arrivals are spread evenly. It prints progress every second, a summary table
//! at the end (see [`BenchReport`]) and, with `--json`, one JSON object last. It refuses
//! non-loopback targets unless told otherwise, and always stops after `duration`.

mod lines;
mod report;
pub mod sink;

pub use lines::{BatchShape, NodeBatches, flood_batch};
pub use report::{BenchReport, Tally};

use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest run accepted.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// Most nodes accepted.
pub const MAX_NODES: usize = 100_000;

/// At most this many bytes of rendered batch templates (see [`NodeBatches`]) for all
/// nodes together; beyond it, nodes format each batch as they send it.
const MAX_TEMPLATES_BYTES: usize = 1 << 30;

/// The write API the nodes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Api {
    /// `POST /write?db=…` (InfluxDB 1.x).
    V1,
    /// `POST /api/v2/write?bucket=…&org=sluice` (InfluxDB 2.x).
    V2,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// Base URL of the target (a Sluice or an InfluxDB).
    pub url: String,
    /// Database (v1) or bucket (v2) to write to.
    pub db: String,
    /// Concurrent simulated nodes.
    pub nodes: usize,
    /// Total points per second to aim for; 0 = as fast as the target accepts.
    pub rate: u64,
    /// How long to run (at most [`MAX_DURATION`]).
    pub duration: Duration,
    /// What each request holds.
    pub shape: BatchShape,
    /// Which write API.
    pub api: Api,
    /// Gzip the bodies.
    pub gzip: bool,
    /// Give each node its own phase instead of ticking together.
    pub spread: bool,
    /// Print progress lines to stderr every second.
    pub progress: bool,
    /// Allow a target that is not on the loopback interface.
    pub allow_remote: bool,
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
    /// Out of the bounds a bench accepts.
    #[error("{0}")]
    OutOfBounds(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Refuses a URL that is not on loopback unless `allow_remote`.
///
/// Errors: [`BenchError::BadUrl`], [`BenchError::NotLoopback`].
pub fn check_loopback(url: &reqwest::Url, allow_remote: bool) -> Result<(), BenchError> {
    let host = url
        .host_str()
        .ok_or_else(|| BenchError::BadUrl(url.to_string()))?;
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback && !allow_remote {
        return Err(BenchError::NotLoopback(host.to_owned()));
    }
    Ok(())
}

/// The write URL for `spec`.
fn write_url(spec: &BenchSpec) -> Result<reqwest::Url, BenchError> {
    let bad = || BenchError::BadUrl(spec.url.clone());
    let url = reqwest::Url::parse(&spec.url).map_err(|_| bad())?;
    check_loopback(&url, spec.allow_remote)?;
    let mut write = match spec.api {
        Api::V1 => url.join("/write").map_err(|_| bad())?,
        Api::V2 => url.join("/api/v2/write").map_err(|_| bad())?,
    };
    match spec.api {
        Api::V1 => {
            write.query_pairs_mut().append_pair("db", &spec.db);
        }
        Api::V2 => {
            write
                .query_pairs_mut()
                .append_pair("org", "sluice")
                .append_pair("bucket", &spec.db)
                .append_pair("precision", "ns");
        }
    }
    Ok(write)
}

/// Runs the load and returns the report.
///
/// Errors: a bad or non-loopback URL, more than [`MAX_NODES`] nodes or a duration past
/// [`MAX_DURATION`], or an HTTP client that cannot be built.
pub async fn run(spec: BenchSpec) -> Result<BenchReport, BenchError> {
    if spec.duration > MAX_DURATION || spec.nodes > MAX_NODES {
        return Err(BenchError::OutOfBounds(format!(
            "a bench runs at most {} s with at most {MAX_NODES} nodes",
            MAX_DURATION.as_secs()
        )));
    }
    let write = write_url(&spec)?;
    let nodes = spec.nodes.max(1);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(nodes)
        .timeout(Duration::from_secs(60))
        .build()?;
    let batch = spec.shape.points.max(1);
    // Seconds between one node's batches; without a rate, one second (the tick) only
    // shapes the phases, and nodes send as fast as they are answered.
    let interval = if spec.rate > 0 {
        Duration::from_secs_f64(batch as f64 * nodes as f64 / spec.rate as f64)
    } else {
        Duration::from_secs(1)
    };
    // One tally for all nodes (a histogram is ~170 KB: not one per node of 10,000).
    let tally =
        Tally::new().map_err(|e| BenchError::OutOfBounds(format!("latency histogram: {e}")))?;
    let tally = Arc::new(std::sync::Mutex::new(tally));
    let shape = BatchShape {
        points: batch,
        ..spec.shape
    };
    // Every node's template, rendered before the clock starts, unless they would take
    // more than `MAX_TEMPLATES_BYTES` together.
    let per_node = batch * 160 + shape.trace_bytes * batch.div_ceil(100);
    let render = per_node.saturating_mul(nodes) <= MAX_TEMPLATES_BYTES;
    let batches: Vec<NodeBatches> = (0..nodes)
        .map(|node| NodeBatches::new(node, &shape, render))
        .collect();
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let deadline = started + spec.duration;
    let progress = spec
        .progress
        .then(|| tokio::spawn(print_progress(Arc::clone(&live), started, deadline)));
    let mut tasks = tokio::task::JoinSet::new();
    for (node, batches) in batches.into_iter().enumerate() {
        let node_spec = NodeSpec {
            client: client.clone(),
            url: write.clone(),
            batches,
            points: batch,
            gzip: spec.gzip,
            paced: spec.rate > 0,
            interval,
            first: first_tick(node, nodes, interval, spec.spread, started),
            deadline,
            live: Arc::clone(&live),
            tally: Arc::clone(&tally),
        };
        tasks.spawn(node_spec.run());
    }
    while tasks.join_next().await.is_some() {}
    if let Some(progress) = progress {
        progress.abort();
    }
    let elapsed = started.elapsed();
    let tally = tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(BenchReport { tally, elapsed })
}

/// When node `node` of `nodes` sends its first batch: at the next wall-clock multiple of
/// `interval` (all nodes together), or spread by `node / nodes` of an interval.
fn first_tick(
    node: usize,
    nodes: usize,
    interval: Duration,
    spread: bool,
    now: Instant,
) -> Instant {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let interval_ns = interval.as_nanos().max(1);
    let into = since_epoch.as_nanos() % interval_ns;
    let aligned = now + Duration::from_nanos(u64::try_from(interval_ns - into).unwrap_or(0));
    if spread {
        aligned + interval.mul_f64(node as f64 / nodes as f64)
    } else {
        aligned
    }
}

/// Counters the progress lines read while the nodes run.
#[derive(Debug, Default)]
struct Live {
    points: AtomicU64,
    errors: AtomicU64,
}

/// One node's loop.
struct NodeSpec {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The node's batches.
    batches: NodeBatches,
    /// Points per batch.
    points: usize,
    gzip: bool,
    paced: bool,
    interval: Duration,
    first: Instant,
    deadline: Instant,
    live: Arc<Live>,
    /// Where every node counts.
    tally: Arc<std::sync::Mutex<Tally>>,
}

impl NodeSpec {
    async fn run(self) {
        let mut due = self.first;
        let mut seq: u64 = 0;
        loop {
            if due > Instant::now() {
                if due >= self.deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            if Instant::now() >= self.deadline {
                break;
            }
            let lines = self.batches.batch(seq);
            seq += 1;
            let mut request = self.client.post(self.url.clone());
            request = if self.gzip {
                request
                    .header("Content-Encoding", "gzip")
                    .body(gzip(&lines))
            } else {
                request.body(lines)
            };
            let sent = Instant::now();
            let status = request.send().await.ok().map(|r| r.status().as_u16());
            self.tally
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .record(status, self.points, sent.elapsed());
            if status.is_some_and(|s| (200..300).contains(&s)) {
                self.live
                    .points
                    .fetch_add(self.points as u64, Ordering::Relaxed);
            } else {
                self.live.errors.fetch_add(1, Ordering::Relaxed);
            }
            if self.paced {
                due += self.interval;
            }
        }
    }
}

/// `body` gzipped (fast level: the load generator shares the machine).
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _infallible = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// Prints one progress line per second to stderr until aborted.
async fn print_progress(live: Arc<Live>, started: Instant, deadline: Instant) {
    let mut last = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let points = live.points.load(Ordering::Relaxed);
        let left = deadline.saturating_duration_since(Instant::now());
        eprintln!(
            "t={:>4.0}s  acked {points:>11} points  {:>9} points/s  errors {:>5}  {:>4.0}s left",
            started.elapsed().as_secs_f64(),
            points - last,
            live.errors.load(Ordering::Relaxed),
            left.as_secs_f64()
        );
        last = points;
    }
}
