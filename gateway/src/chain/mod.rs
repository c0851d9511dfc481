//! The plugin chain: every accepted batch passes through the configured WebAssembly
//! plugins, in order, before it is appended to the buffer (so a 204 still means "durably
//! accepted, transformed"). This stage is empty until plugins are configured: the batch
//! passes through untouched, without a copy.

use crate::batch::Batch;

/// What the chain did with a batch.
#[derive(Debug)]
pub enum ChainOutcome {
    /// Forward this (possibly rewritten) batch to the buffer.
    Forward(Batch),
}

/// The ordered plugins every batch runs through.
#[derive(Debug, Default)]
pub struct Chain {
    names: Vec<String>,
}

impl Chain {
    /// A chain with no plugins: batches pass through unchanged.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Plugin names in order (for `/health`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Runs `batch` through every plugin.
    pub async fn run(&self, batch: Batch) -> ChainOutcome {
        ChainOutcome::Forward(batch)
    }
}
