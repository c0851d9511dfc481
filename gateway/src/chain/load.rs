//! Building the chain from `[[plugins]]`, `[kv]` and `[blob]`: the capability backends
//! ([`open_capabilities`], once per process: the app keeps them so a new chain can be
//! built without reopening), one engine (compiled components cached beside the buffer),
//! then every plugin compiled and initialised with its config, its kv seen through its
//! namespace. Any failure names the plugin and stops the start, so a gateway never runs
//! with half a chain.

use super::{Chain, Stage};
use crate::config::{BlobKind, Config, KvKind};
use crate::telemetry::Metrics;
use sluice_host::caps::blob::{BlobStore, FsBlobStore, S3BlobStore, S3Options};
use sluice_host::caps::kv::{KvStore, LazyKv, RedisKv, RedisKvOptions};
use sluice_host::caps::{Capabilities, CapabilityError};
use sluice_host::{Engine, HostError, Plugin, PluginSpec};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Why the chain could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A capability backend could not be opened.
    #[error("{what} at {at}: {source}")]
    Capability {
        /// `kv` or `blob`.
        what: &'static str,
        /// Its directory or server.
        at: String,
        /// The error.
        source: CapabilityError,
    },
    /// The engine could not start, or a plugin could not be loaded or rejected its
    /// config.
    #[error(transparent)]
    Plugin(#[from] HostError),
    /// A plugin's file does not have the `sha256` its entry pins.
    #[error("plugin {plugin:?}: the file's sha256 is {actual}, the config pins {pinned}")]
    Pinned {
        /// The plugin's name.
        plugin: String,
        /// The `sha256` of its entry.
        pinned: String,
        /// The file's.
        actual: String,
    },
}

/// What every generation of the chain is built from and shares, owned by the app for the
/// life of the process: the wasmtime engine (with its compiled-component cache), the
/// capability backends and the worker limit. A reload builds a new chain from the same
/// parts, so it never reopens the kv (whose lock a second open would hit) or the blob
/// store, and never changes how many batches run at once.
#[derive(Debug, Clone)]
pub struct ChainParts {
    /// Compiles and instantiates components; its cache is `plugin_cache_dir`.
    pub engine: Engine,
    /// The `kv` and `blob` backends.
    pub caps: Capabilities,
    /// At most this many batches in the chain at once (one per core).
    pub workers: Arc<Semaphore>,
}

impl ChainParts {
    /// The configured backends, an engine caching compiled components under the config's
    /// cache dir, and one worker per core. Blocking (see [`open_capabilities`]).
    pub fn open(config: &Config) -> Result<Self, ChainError> {
        Self::with_caps(config, open_capabilities(config)?)
    }

    /// As [`ChainParts::open`] with `caps` instead of the configured backends (`sluice
    /// check` uses scratch ones, so it never touches a running gateway's kv).
    pub fn with_caps(config: &Config, caps: Capabilities) -> Result<Self, ChainError> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            engine: Engine::new(Some(config.plugin_cache_dir()))?,
            caps,
            workers: Arc::new(Semaphore::new(workers)),
        })
    }
}

/// Opens the configured backends and loads every configured plugin, in order.
/// Blocking: compiling a component takes a while the first time (later starts take it
/// from the cache).
pub fn load(config: &Config, metrics: Arc<Metrics>) -> Result<Chain, ChainError> {
    if config.plugins.is_empty() {
        return Ok(Chain::empty());
    }
    load_with(config, &ChainParts::open(config)?, metrics)
}

/// Loads every configured plugin from `parts`, in order. Blocking. A plugin entry with
/// `sha256` set must match its file, or the load fails naming both digests.
pub fn load_with(
    config: &Config,
    parts: &ChainParts,
    metrics: Arc<Metrics>,
) -> Result<Chain, ChainError> {
    if config.plugins.is_empty() {
        return Ok(Chain::empty());
    }
    let engine = &parts.engine;
    let caps = &parts.caps;
    let mut stages = Vec::with_capacity(config.plugins.len());
    for entry in &config.plugins {
        let spec = PluginSpec {
            name: entry.name.clone(),
            wasm: entry.wasm.clone(),
            config_json: entry.config_json(),
            max_memory: entry.max_memory.0,
            timeout: entry.timeout,
        };
        let plugin = Plugin::load(engine, spec, caps.in_namespace(entry.kv_namespace()))?;
        if let Some(pinned) = &entry.sha256
            && !pinned.eq_ignore_ascii_case(plugin.sha256())
        {
            return Err(ChainError::Pinned {
                plugin: entry.name.clone(),
                pinned: pinned.clone(),
                actual: plugin.sha256().to_owned(),
            });
        }
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
    Ok(Chain::new(stages, Arc::clone(&parts.workers), metrics))
}

/// The configured `kv` and `blob` backends. The embedded kv is not opened here but at its
/// first call (see [`LazyKv`]); a Redis kv is not contacted here, only its URL checked: an
/// unreachable Redis makes plugin calls fail as unavailable until it answers.
pub fn open_capabilities(config: &Config) -> Result<Capabilities, ChainError> {
    let kv: Arc<dyn KvStore> = match config.kv.kind {
        KvKind::Embedded => Arc::new(open_embedded_kv(config)),
        KvKind::Redis => {
            let url = config.kv.url.clone().unwrap_or_default();
            let kv = RedisKv::open(RedisKvOptions {
                url,
                key_prefix: config.kv.key_prefix().to_owned(),
                timeout: config.kv.timeout(),
            })
            .map_err(|source| ChainError::Capability {
                what: "kv",
                at: "redis".to_owned(),
                source,
            })?;
            if let Err(e) = kv.ping() {
                tracing::warn!(error = %e, "kv: Redis not reachable; plugins calling kv answer 503 until it is");
            }
            Arc::new(kv)
        }
    };
    let blob: Arc<dyn BlobStore> = match config.blob.kind {
        BlobKind::Fs => {
            let blob_dir = config.blob_dir();
            let blob = FsBlobStore::open(&blob_dir).map_err(|source| ChainError::Capability {
                what: "blob",
                at: blob_dir.display().to_string(),
                source,
            })?;
            Arc::new(blob)
        }
        BlobKind::S3 => {
            let bucket = config.blob.bucket.clone().unwrap_or_default();
            let blob = S3BlobStore::open(S3Options {
                bucket: bucket.clone(),
                endpoint: config.blob.endpoint.clone(),
                region: config.blob.region.clone(),
                path_style: config.blob.path_style(),
                timeout: config.blob.timeout(),
            })
            .map_err(|source| ChainError::Capability {
                what: "blob",
                at: format!("s3 bucket {bucket}"),
                source,
            })?;
            Arc::new(blob)
        }
    };
    Ok(Capabilities::new(kv, blob))
}

/// The embedded kv in the config's kv dir, opened (and locked) at the first kv call: a
/// gateway whose plugins never call kv never takes the lock (see [`LazyKv`]).
fn open_embedded_kv(config: &Config) -> LazyKv {
    LazyKv::new(config.kv_dir().join("kv.redb"))
}
