//! The forwarder of one output: read from its buffer cursor, coalesce, compress, send,
//! retry until the store takes it (or dead-letter what it refuses), then acknowledge.
//! Up to `concurrency` requests are in flight at once; they are acknowledged strictly in
//! buffer order, so the cursor never passes a request that has not landed. On shutdown
//! it stops between requests; anything not acknowledged is replayed on the next start
//! (at-least-once).

use super::client::{SendError, Sender};
use super::coalesce::{Request, coalesce};
use super::health::OutputHealth;
use super::retry::Backoff;
use crate::batch::{Batch, Origin};
use crate::buffer::{Consumer, Position};
use crate::config::OutputConfig;
use crate::dead_letter::{DeadLetters, NewEntry};
use crate::telemetry::Metrics;
use crate::telemetry::events::{DeadLettered, OutputDelivered, OutputRecovered, OutputRetrying};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Most records taken from the buffer per read.
const READ_RECORDS: usize = 256;

/// Everything one forwarder needs.
pub struct Forwarder {
    /// The output's configuration.
    pub config: OutputConfig,
    /// Its buffer cursor.
    pub consumer: Consumer,
    /// Sends requests.
    pub sender: Sender,
    /// Where refused batches go.
    pub dead_letters: Arc<DeadLetters>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// `/health` state.
    pub health: Arc<OutputHealth>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("output", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// How one request ended: done up to this buffer position, or interrupted by shutdown.
enum Outcome {
    Done(Position),
    Shutdown,
}

type InFlight = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The parts of a forwarder that in-flight requests share.
struct Delivery {
    config: OutputConfig,
    sender: Sender,
    dead_letters: Arc<DeadLetters>,
    metrics: Arc<Metrics>,
    health: Arc<OutputHealth>,
    shutdown: CancellationToken,
}

impl Forwarder {
    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let Forwarder {
            config,
            mut consumer,
            sender,
            dead_letters,
            metrics,
            health,
        } = self;
        let name = config.name.clone();
        let concurrency = config.concurrency.max(1);
        let read_bytes = config.batch_bytes.as_usize();
        let delivery = Arc::new(Delivery {
            config,
            sender,
            dead_letters,
            metrics,
            health,
            shutdown: shutdown.clone(),
        });
        let mut in_flight: FuturesOrdered<InFlight> = FuturesOrdered::new();
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(outcome) = in_flight.next(), if !in_flight.is_empty() => match outcome {
                    Outcome::Done(pos) => {
                        if let Err(e) = consumer.ack(pos).await {
                            tracing::error!(output = %name, error = %e, "cannot move the buffer cursor; batch may be sent again after a restart");
                        }
                    }
                    Outcome::Shutdown => break,
                },
                read = consumer.next(READ_RECORDS, read_bytes), if in_flight.len() < concurrency => {
                    match read {
                        Ok(entries) => {
                            for request in plan(&name, entries, &delivery.config) {
                                in_flight.push_back(request.into_future(&delivery));
                            }
                        }
                        Err(e) => {
                            tracing::error!(output = %name, error = %e, "cannot read the buffer; retrying in 1s");
                            if sleep_or_shutdown(Duration::from_secs(1), &shutdown).await {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What to do with one read: requests to send, and a final position to acknowledge
/// when the read ended with records that could not be decoded.
enum Planned {
    Send(Request),
    Skip(Position),
}

impl Planned {
    fn into_future(self, delivery: &Arc<Delivery>) -> InFlight {
        match self {
            Planned::Send(request) => {
                let delivery = Arc::clone(delivery);
                Box::pin(async move { delivery.deliver(request).await })
            }
            Planned::Skip(pos) => Box::pin(std::future::ready(Outcome::Done(pos))),
        }
    }
}

fn plan(name: &str, entries: Vec<crate::buffer::Entry>, config: &OutputConfig) -> Vec<Planned> {
    let Some(read_up_to) = entries.last().map(|e| e.pos) else {
        return Vec::new();
    };
    let mut decoded = Vec::with_capacity(entries.len());
    for entry in entries {
        match Batch::decode(entry.data) {
            Ok(batch) => decoded.push((entry.pos, batch)),
            // Only a record written by an incompatible build gets here.
            Err(e) => {
                tracing::error!(output = %name, error = %e, position = %entry.pos, "undecodable buffer record skipped")
            }
        }
    }
    let requests = coalesce(decoded, config.batch_points, config.batch_bytes.as_usize());
    let last_sent = requests.last().map(|r| r.last);
    let mut planned: Vec<Planned> = requests.into_iter().map(Planned::Send).collect();
    if last_sent != Some(read_up_to) {
        planned.push(Planned::Skip(read_up_to));
    }
    planned
}

impl Delivery {
    /// Sends one request until the store takes it or refuses it for good.
    async fn deliver(&self, request: Request) -> Outcome {
        let name = self.config.name.as_str();
        let mut backoff = Backoff::new(self.config.retry_initial, self.config.retry_max);
        let raw = request.body();
        let (body, gzipped) = if self.config.gzip {
            match gzip(&raw) {
                Ok(b) => (b, true),
                Err(_) => (raw.clone(), false),
            }
        } else {
            (raw.clone(), false)
        };
        loop {
            let started = Instant::now();
            match self
                .sender
                .send(&request.context, body.clone(), gzipped)
                .await
            {
                Ok(()) => {
                    if backoff.failures() > 0 {
                        OutputRecovered {
                            output: name,
                            failures: backoff.failures(),
                        }
                        .emit();
                    }
                    self.health.delivered(request.points);
                    OutputDelivered {
                        output: name,
                        points: request.points,
                        elapsed: started.elapsed(),
                    }
                    .emit(&self.metrics);
                    return Outcome::Done(request.last);
                }
                Err(SendError::Retry {
                    kind,
                    message,
                    retry_after,
                }) => {
                    let delay = backoff.next_delay(retry_after);
                    self.health.failed(&message);
                    OutputRetrying {
                        output: name,
                        kind,
                        attempt: backoff.failures(),
                        delay,
                        error: &message,
                    }
                    .emit(&self.metrics);
                    if sleep_or_shutdown(delay, &self.shutdown).await {
                        return Outcome::Shutdown;
                    }
                }
                Err(refused) => {
                    let message = refused.to_string();
                    if self.dead_letter(&request, &raw, &message).await {
                        return Outcome::Shutdown;
                    }
                    self.health.dead_lettered(&message);
                    return Outcome::Done(request.last);
                }
            }
        }
    }

    /// Stores a refused request; keeps trying while the disk refuses (the batch must not
    /// be lost). Returns true if shutdown interrupted it.
    async fn dead_letter(&self, request: &Request, raw: &Bytes, message: &str) -> bool {
        let batch = Batch::from_lines(request.context.clone(), raw, request.points);
        loop {
            let store = Arc::clone(&self.dead_letters);
            let batch = batch.clone();
            let source = self.config.name.clone();
            let error = message.to_owned();
            let put = tokio::task::spawn_blocking(move || {
                store.put(&NewEntry {
                    stage: "output",
                    source: &source,
                    plugin_sha256: None,
                    batch: &batch,
                    error: &error,
                    origin: Origin::default(),
                })
            })
            .await;
            match put {
                Ok(Ok(id)) => {
                    DeadLettered {
                        stage: "output",
                        source: &self.config.name,
                        points: request.points,
                        error: message,
                        id: &id,
                    }
                    .emit(&self.metrics);
                    return false;
                }
                Ok(Err(e)) => {
                    tracing::error!(output = %self.config.name, error = %e, "cannot write the dead-letter store; keeping the batch in the buffer")
                }
                Err(e) => {
                    tracing::error!(output = %self.config.name, error = %e, "dead-letter task failed")
                }
            }
            if sleep_or_shutdown(Duration::from_secs(1), &self.shutdown).await {
                return true;
            }
        }
    }
}

/// Sleeps, or returns true early when shutdown is requested.
async fn sleep_or_shutdown(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(data)?;
    encoder.finish().map(Bytes::from)
}
