//! The path every accepted batch takes, shared by HTTP and UDP ingest: plugin chain, then
//! a durable append to the buffer. When `accept` returns `Ok`, the batch is on disk.

use crate::batch::Batch;
use crate::buffer::{Queue, QueueError};
use crate::chain::{Chain, ChainOutcome};
use crate::telemetry::Metrics;
use crate::telemetry::events::{BatchAccepted, BufferFull};
use std::sync::Arc;

/// Why a batch was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The buffer is at `max_size`: the client must retry later (503).
    #[error("{0}")]
    Full(String),
    /// The batch can never fit in the buffer, however much is delivered (413).
    #[error("{0}")]
    TooLarge(String),
    /// The buffer could not store the batch (disk error): 500, nothing acknowledged.
    #[error("buffer error: {0}")]
    Buffer(QueueError),
}

/// Chain plus buffer, shared by every ingest task.
pub struct Pipeline {
    chain: Chain,
    queue: Queue,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Assembles the pipeline.
    pub fn new(chain: Chain, queue: Queue, metrics: Arc<Metrics>) -> Self {
        Self {
            chain,
            queue,
            metrics,
        }
    }

    /// The chain (for `/health`).
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The queue (for stats).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs the batch through the chain and appends the result durably.
    /// `received_bytes` is what the client sent (decoded), for metrics.
    pub async fn accept(&self, batch: Batch, received_bytes: usize) -> Result<(), AcceptError> {
        let points = batch.points();
        if points == 0 {
            return Ok(());
        }
        let ChainOutcome::Forward(batch) = self.chain.run(batch).await;
        if batch.points() > 0 {
            match self.queue.append(batch.record()).await {
                Ok(()) => {}
                Err(e @ QueueError::Full { .. }) => {
                    BufferFull { points }.emit(&self.metrics);
                    return Err(AcceptError::Full(e.to_string()));
                }
                Err(e @ QueueError::RecordTooLarge { .. }) => {
                    return Err(AcceptError::TooLarge(e.to_string()));
                }
                Err(e) => return Err(AcceptError::Buffer(e)),
            }
        }
        BatchAccepted {
            points,
            bytes: received_bytes,
        }
        .emit(&self.metrics);
        Ok(())
    }
}
