//! The forwarder of one output: read from its buffer cursor, coalesce, compress, send,
//! retry until the store takes it (or dead-letter what it refuses), then acknowledge.
//! On shutdown it stops between requests; anything not acknowledged is replayed on the
//! next start (at-least-once).

use super::client::{SendError, Sender};
use super::coalesce::{Request, coalesce};
use super::health::OutputHealth;
use super::retry::Backoff;
use crate::batch::Batch;
use crate::buffer::Consumer;
use crate::config::OutputConfig;
use crate::dead_letter::{DeadLetters, NewEntry};
use crate::telemetry::Metrics;
use crate::telemetry::events::{DeadLettered, OutputDelivered, OutputRecovered, OutputRetrying};
use bytes::Bytes;
use std::io::Write;
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

enum Outcome {
    Done,
    Shutdown,
}

impl Forwarder {
    /// Runs until `shutdown` is cancelled.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let name = self.config.name.clone();
        let mut backoff = Backoff::new(self.config.retry_initial, self.config.retry_max);
        loop {
            let entries = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                r = self.consumer.next(READ_RECORDS, self.config.batch_bytes.as_usize()) => r,
            };
            let entries = match entries {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(output = %name, error = %e, "cannot read the buffer; retrying in 1s");
                    if sleep_or_shutdown(Duration::from_secs(1), &shutdown).await {
                        break;
                    }
                    continue;
                }
            };
            let Some(read_up_to) = entries.last().map(|e| e.pos) else {
                continue;
            };
            let mut decoded = Vec::with_capacity(entries.len());
            for entry in entries {
                match Batch::decode(entry.data) {
                    Ok(batch) => decoded.push((entry.pos, batch)),
                    // Only a record written by an incompatible build gets here.
                    Err(e) => {
                        tracing::error!(output = %name, error = %e, position = ?entry.pos, "undecodable buffer record skipped")
                    }
                }
            }
            let requests = coalesce(
                decoded,
                self.config.batch_points,
                self.config.batch_bytes.as_usize(),
            );
            let mut last_acked = None;
            for request in requests {
                match self.deliver(&request, &mut backoff, &shutdown).await {
                    Outcome::Done => {
                        last_acked = Some(request.last);
                        if let Err(e) = self.consumer.ack(request.last).await {
                            tracing::error!(output = %name, error = %e, "cannot move the buffer cursor; batch may be sent again after a restart");
                        }
                    }
                    Outcome::Shutdown => return,
                }
            }
            if last_acked != Some(read_up_to) {
                // The read ended with undecodable records: move past them too.
                if let Err(e) = self.consumer.ack(read_up_to).await {
                    tracing::error!(output = %name, error = %e, "cannot move the buffer cursor");
                }
            }
        }
    }

    async fn deliver(
        &self,
        request: &Request,
        backoff: &mut Backoff,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let name = self.config.name.as_str();
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
                    backoff.reset();
                    self.health.delivered(request.points);
                    OutputDelivered {
                        output: name,
                        points: request.points,
                        elapsed: started.elapsed(),
                    }
                    .emit(&self.metrics);
                    return Outcome::Done;
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
                    if sleep_or_shutdown(delay, shutdown).await {
                        return Outcome::Shutdown;
                    }
                }
                Err(refused) => {
                    let message = refused.to_string();
                    if self.dead_letter(request, &raw, &message, shutdown).await {
                        return Outcome::Shutdown;
                    }
                    backoff.reset();
                    self.health.dead_lettered(&message);
                    return Outcome::Done;
                }
            }
        }
    }

    /// Stores a refused request; keeps trying while the disk refuses (the batch must not
    /// be lost). Returns true if shutdown interrupted it.
    async fn dead_letter(
        &self,
        request: &Request,
        raw: &Bytes,
        message: &str,
        shutdown: &CancellationToken,
    ) -> bool {
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
            if sleep_or_shutdown(Duration::from_secs(1), shutdown).await {
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
