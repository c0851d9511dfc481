//! The path every accepted batch takes, shared by HTTP and UDP ingest: plugin chain, then
//! a durable append to the buffer. When `accept` returns `Ok`, the batch is on disk: in
//! the buffer, or in the dead-letter store when a plugin failed on it.
//!
//! With `[edge]` or `[merge]`, a [`Stage`] sits between the chain and the buffer: what it
//! takes in is held until its window is written (by [`crate::stage::run_flusher`]). An
//! edge holds it in memory, so for those points `Ok` means "aggregated", not "on disk"; a
//! relay journals sketch points before it merges them, so `Ok` means "in the merge
//! journal" ([`crate::merge::journal`]).
//!
//! The live chain sits behind an atomic pointer: each batch reads it once and runs
//! entirely on that chain, while a reload swaps in the next one ([`Pipeline::swap_chain`]);
//! the old chain goes when its last batch finishes.

use crate::batch::{Batch, Origin};
use crate::buffer::{Queue, QueueError};
use crate::chain::{Chain, ChainOutcome, PluginFailure, Resend};
use crate::dead_letter::{DeadLetterError, DeadLetters, NewEntry};
use crate::stage::{Stage, Staged};
use crate::statement::Statement;
use crate::telemetry::Metrics;
use crate::telemetry::events::{BatchAccepted, BufferFull, DeadLettered};
use arc_swap::ArcSwap;
use std::sync::Arc;

/// Why a batch was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The buffer is at `max_size`: the client must retry later (503).
    #[error("{0}")]
    Full(String),
    /// The buffer (Redis) cannot be reached or did not confirm the append: the client
    /// must retry later (503); the batch may have been stored anyway.
    #[error("{0}")]
    BufferUnavailable(String),
    /// The batch can never fit in the buffer, however much is delivered (413).
    #[error("{0}")]
    TooLarge(String),
    /// The buffer could not store the batch (disk error): 500, nothing acknowledged.
    #[error("buffer error: {0}")]
    Buffer(QueueError),
    /// A plugin's dependency (`kv`, `blob`) is unavailable: the client must retry later
    /// (503).
    #[error("plugin {plugin:?} cannot process the batch now: {error}", plugin = .0.plugin, error = .0.error)]
    Unavailable(PluginFailure),
    /// A plugin failed on the batch and the dead-letter store could not keep it: 500,
    /// nothing acknowledged.
    #[error("dead-letter store error: {0}")]
    DeadLetter(DeadLetterError),
}

/// Chain plus buffer, shared by every ingest task.
pub struct Pipeline {
    chain: ArcSwap<Chain>,
    queue: Queue,
    dead_letters: Arc<DeadLetters>,
    metrics: Arc<Metrics>,
    /// `[edge]` aggregation or `[merge]`, between the chain and the buffer.
    stage: Option<Stage>,
    /// Whether the buffer is turning writes away (for `/health`).
    refusing: crate::refusing::Refusing,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("chain", &self.chain.load())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Assembles the pipeline.
    pub fn new(
        chain: Chain,
        queue: Queue,
        dead_letters: Arc<DeadLetters>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            chain: ArcSwap::from_pointee(chain),
            queue,
            dead_letters,
            metrics,
            stage: None,
            refusing: crate::refusing::Refusing::default(),
        }
    }

    /// Why the buffer is refusing writes now (full, or out of reach), if it is: the last
    /// append was refused within [`crate::refusing::REFUSING_FOR`] and none succeeded
    /// since.
    pub fn refusing_writes(&self) -> Option<String> {
        self.refusing.reason()
    }

    /// Puts `stage` between the chain and the buffer.
    pub fn with_stage(mut self, stage: Option<Stage>) -> Self {
        self.stage = stage;
        self
    }

    /// The stage between the chain and the buffer, if any.
    pub fn stage(&self) -> Option<&Stage> {
        self.stage.as_ref()
    }

    /// The live chain (for `/health`).
    pub fn chain(&self) -> Arc<Chain> {
        self.chain.load_full()
    }

    /// Makes `chain` the live chain for every batch that starts from now on and returns
    /// the one it replaces (batches already running finish on it).
    pub fn swap_chain(&self, chain: Chain) -> Arc<Chain> {
        self.chain.swap(Arc::new(chain))
    }

    /// The queue (for stats).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs the batch through the chain and appends the result durably (or keeps it in
    /// the dead-letter store when a plugin failed on it). `received_bytes` is what the
    /// client sent (decoded), for metrics; `resend` whether the client can retry.
    pub async fn accept(
        &self,
        batch: Batch,
        received_bytes: usize,
        origin: &Origin,
        resend: Resend,
    ) -> Result<(), AcceptError> {
        let points = batch.points();
        if points == 0 {
            return Ok(());
        }
        // One read: the whole batch runs on this chain, whatever a reload does meanwhile.
        let chain = self.chain.load_full();
        let batch = match chain.run(batch, origin, resend).await {
            ChainOutcome::Forward(batch) => Some(batch),
            ChainOutcome::DeadLetter { batch, failure } => {
                self.dead_letter(batch, failure, origin).await?;
                None
            }
            ChainOutcome::Dropped { .. } => None,
            ChainOutcome::Unavailable(failure) => return Err(AcceptError::Unavailable(failure)),
        };
        let staged = match (&self.stage, batch.filter(|b| b.points() > 0)) {
            (Some(stage), Some(batch)) => stage.process(batch, &self.metrics),
            (_, batch) => Staged {
                now: batch,
                sketches: None,
            },
        };
        if let Some(batch) = staged.now.filter(|b| b.points() > 0) {
            let route = route(&batch, origin);
            self.append(batch.record(), points, Some(route)).await?;
        }
        if let (Some(stage), Some(sketches)) = (&self.stage, staged.sketches) {
            stage.merge(sketches, &self.metrics).await?;
        }
        BatchAccepted {
            points,
            bytes: received_bytes,
        }
        .emit(&self.metrics);
        Ok(())
    }

    /// Appends an ordered statement (`CREATE DATABASE`, `DROP MEASUREMENT`, …) to the
    /// buffer durably, where every forwarder meets it between the batches written before
    /// and after it and applies it to its output first (see [`crate::statement`]).
    ///
    /// Errors: [`AcceptError::Full`] (503) and [`AcceptError::Buffer`], as for a batch.
    pub async fn append_statement(&self, statement: &Statement) -> Result<(), AcceptError> {
        self.append(statement.record(), 0, None).await
    }

    /// Appends a batch that needs no chain (the stage's window summaries) durably.
    ///
    /// Errors: as [`Pipeline::accept`]'s buffer errors.
    pub async fn append_batch(&self, batch: &Batch) -> Result<(), AcceptError> {
        let route = route(batch, &Origin::default());
        self.append(batch.record(), batch.points(), Some(route))
            .await
    }

    /// Appends one record durably, mapping the buffer's refusals to what the client is
    /// told; `points` is what a full buffer turned away, for metrics. `route` picks the
    /// shard of a sharded buffer; `None` puts the record on every shard (a statement).
    async fn append(
        &self,
        record: impl Into<sluice_buffer::Record>,
        points: usize,
        route: Option<u64>,
    ) -> Result<(), AcceptError> {
        let appended = match route {
            Some(route) => self.queue.append_routed(record, route).await,
            None => self.queue.append_everywhere(record).await,
        };
        match appended {
            Ok(()) => {
                self.refusing.accepted();
                Ok(())
            }
            Err(e @ QueueError::Unavailable { .. }) => {
                self.refusing.refused(&e.to_string());
                Err(AcceptError::BufferUnavailable(e.to_string()))
            }
            Err(e @ (QueueError::Full { .. } | QueueError::StreamFull { .. })) => {
                self.refusing.refused(&e.to_string());
                BufferFull { points }.emit(&self.metrics);
                Err(AcceptError::Full(e.to_string()))
            }
            Err(e @ QueueError::RecordTooLarge { .. }) => Err(AcceptError::TooLarge(e.to_string())),
            Err(e) => Err(AcceptError::Buffer(e)),
        }
    }

    /// Keeps a batch a plugin failed on in the dead-letter store, durably.
    async fn dead_letter(
        &self,
        batch: Batch,
        failure: PluginFailure,
        origin: &Origin,
    ) -> Result<(), AcceptError> {
        let store = Arc::clone(&self.dead_letters);
        let origin = origin.clone();
        let points = batch.points();
        let stored = tokio::task::spawn_blocking(move || {
            let id = store.put(&NewEntry {
                stage: "plugin",
                source: &failure.plugin,
                plugin_sha256: failure.sha256.as_deref(),
                status: None,
                batch: &batch,
                error: &failure.error,
                origin,
            })?;
            Ok::<_, DeadLetterError>((id, failure))
        })
        .await;
        let (id, failure) = match stored {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(AcceptError::DeadLetter(e)),
            Err(join) => {
                return Err(AcceptError::DeadLetter(DeadLetterError::Io {
                    path: self.dead_letters.dir().to_owned(),
                    source: std::io::Error::other(join.to_string()),
                }));
            }
        };
        DeadLettered {
            stage: "plugin",
            source: &failure.plugin,
            points,
            error: &failure.error,
            id: &id,
        }
        .emit(&self.metrics);
        Ok(())
    }
}

/// The shard key of a batch: its database and retention policy and the client's address
/// (not its port: a client that reconnects keeps its shard), so one client's points for
/// one database stay in order on one shard.
fn route(batch: &Batch, origin: &Origin) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let context = batch.context();
    context.db.hash(&mut hasher);
    context.rp.hash(&mut hasher);
    let host = origin
        .client
        .as_deref()
        .and_then(|c| c.parse::<std::net::SocketAddr>().ok())
        .map(|addr| addr.ip());
    host.hash(&mut hasher);
    hasher.finish()
}
