//! [`Engine`]: the compiler and runtime shared by every plugin — one wasmtime engine
//! (component model, epoch interruption), its epoch ticker thread, its linker (WASI p2
//! with nothing granted, plus Sluice's `kv`, `blob` and `log`) and its compiled-component
//! cache.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::Transform;
use crate::cache::ComponentCache;
use crate::error::HostError;
use crate::state::State;
use crate::ticker::Ticker;

/// Compiles and runs plugins. Create one per process and load every plugin with it;
/// cloning is cheap and clones share everything. The epoch ticker thread runs as long as
/// the engine or any plugin loaded with it is alive.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

/// What an engine and the plugins loaded with it share.
pub(crate) struct Shared {
    pub(crate) wasmtime: wasmtime::Engine,
    pub(crate) linker: Linker<State>,
    pub(crate) cache: Option<ComponentCache>,
    /// Held for its `Drop`: stops the epoch thread when the last user goes.
    _ticker: Ticker,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine that caches compiled components in `cache_dir` (created if missing), or
    /// compiles every plugin at each load when `None`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let engine = sluice_host::Engine::new(Some(dir.path().to_owned())).unwrap();
    /// # drop(engine);
    /// ```
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Self, HostError> {
        let engine_error = |what: &str, e: &dyn std::fmt::Display| HostError::Engine {
            message: format!("{what}: {e:#}"),
        };
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // Every 32-bit memory gets its full 4 GiB reservation (the default on 64-bit
        // hosts), so it never has to move: saying so lets Cranelift hoist the memory
        // base out of loops.
        config.memory_may_move(false);
        let wasmtime =
            wasmtime::Engine::new(&config).map_err(|e| engine_error("configuring wasmtime", &e))?;

        let mut linker = Linker::<State>::new(&wasmtime);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| engine_error("linking WASI", &e))?;
        Transform::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state)
            .map_err(|e| engine_error("linking the sluice:plugin imports", &e))?;
        crate::sleep::override_sleeps(&mut linker)
            .map_err(|e| engine_error("linking the clock overrides", &e))?;

        let cache = match cache_dir {
            None => None,
            Some(dir) => Some(ComponentCache::open(&dir, &wasmtime).map_err(|e| {
                engine_error(&format!("compiled-plugin cache {}", dir.display()), &e)
            })?),
        };
        let ticker = Ticker::start(wasmtime.clone())
            .map_err(|e| engine_error("starting the epoch ticker thread", &e))?;
        Ok(Self {
            shared: Arc::new(Shared {
                wasmtime,
                linker,
                cache,
                _ticker: ticker,
            }),
        })
    }
}
