//! [`InstancePool`]: the plugin instances of the chain's workers. A worker takes a set
//! (one slot per plugin) for a batch and puts it back after, so there is at most one set
//! per concurrently running batch, each instance used by one thread at a time, and
//! instances live across batches. Slots start empty and are filled on first use.

use sluice_host::PluginInstance;
use std::sync::{Mutex, PoisonError};

/// One instance slot per plugin of the chain.
pub(super) type InstanceSet = Vec<Option<PluginInstance>>;

/// Idle instance sets.
#[derive(Debug)]
pub(super) struct InstancePool {
    plugins: usize,
    idle: Mutex<Vec<InstanceSet>>,
}

impl InstancePool {
    /// An empty pool for a chain of `plugins` plugins.
    pub(super) fn new(plugins: usize) -> Self {
        Self {
            plugins,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle set, or a new one with empty slots.
    pub(super) fn take(&self) -> InstanceSet {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        idle.unwrap_or_else(|| (0..self.plugins).map(|_| None).collect())
    }

    /// Returns a set for the next batch.
    pub(super) fn put(&self, set: InstanceSet) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(set);
    }
}
