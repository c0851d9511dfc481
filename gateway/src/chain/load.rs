//! Building the chain from `[[plugins]]`, `[kv]` and `[blob]`: one engine (compiled
//! components cached beside the buffer), the embedded capabilities, then every plugin
//! compiled and initialised with its config. Any failure names the plugin and stops the
//! start, so a gateway never runs with half a chain.

use super::{Chain, Stage};
use crate::config::Config;
use crate::telemetry::Metrics;
use sluice_host::caps::blob::FsBlobStore;
use sluice_host::caps::kv::EmbeddedKv;
use sluice_host::caps::{Capabilities, CapabilityError};
use sluice_host::{Engine, HostError, Plugin, PluginSpec};
use std::path::PathBuf;
use std::sync::Arc;

/// Why the chain could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A capability backend could not be opened.
    #[error("{what} at {}: {source}", dir.display())]
    Capability {
        /// `kv` or `blob`.
        what: &'static str,
        /// Its directory.
        dir: PathBuf,
        /// The error.
        source: CapabilityError,
    },
    /// The engine could not start, or a plugin could not be loaded or rejected its
    /// config.
    #[error(transparent)]
    Plugin(#[from] HostError),
}

/// Loads every configured plugin, in order. Blocking: compiling a component takes a
/// while the first time (later starts take it from the cache).
pub fn load(config: &Config, metrics: Arc<Metrics>) -> Result<Chain, ChainError> {
    if config.plugins.is_empty() {
        return Ok(Chain::empty());
    }
    load_with(config, capabilities(config)?, metrics)
}

/// Loads every configured plugin against `caps` instead of the configured backends
/// (`sluice check` uses scratch ones, so it never touches a running gateway's kv).
pub fn load_with(
    config: &Config,
    caps: Capabilities,
    metrics: Arc<Metrics>,
) -> Result<Chain, ChainError> {
    if config.plugins.is_empty() {
        return Ok(Chain::empty());
    }
    let engine = Engine::new(Some(config.plugin_cache_dir()))?;
    let mut stages = Vec::with_capacity(config.plugins.len());
    for entry in &config.plugins {
        let spec = PluginSpec {
            name: entry.name.clone(),
            wasm: entry.wasm.clone(),
            config_json: entry.config_json(),
            max_memory: entry.max_memory.0,
            timeout: entry.timeout,
        };
        let plugin = Plugin::load(&engine, spec, caps.clone())?;
        tracing::info!(
            plugin = plugin.name(),
            wasm = %entry.wasm.display(),
            sha256 = plugin.sha256(),
            cached = plugin.cache_hit(),
            on_error = entry.on_error.as_str(),
            "plugin loaded"
        );
        stages.push(Stage {
            plugin,
            on_error: entry.on_error,
        });
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    Ok(Chain::new(stages, workers, metrics))
}

/// The embedded `kv` and filesystem `blob` backends of the config.
fn capabilities(config: &Config) -> Result<Capabilities, ChainError> {
    let kv_dir = config.kv_dir();
    let kv_error = |source| ChainError::Capability {
        what: "kv",
        dir: kv_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&kv_dir).map_err(|source| {
        kv_error(CapabilityError::Io {
            path: kv_dir.clone(),
            source,
        })
    })?;
    let kv = EmbeddedKv::open(&kv_dir.join("kv.journal")).map_err(kv_error)?;
    let blob_dir = config.blob_dir();
    let blob = FsBlobStore::open(&blob_dir).map_err(|source| ChainError::Capability {
        what: "blob",
        dir: blob_dir.clone(),
        source,
    })?;
    Ok(Capabilities::new(Arc::new(kv), Arc::new(blob)))
}
