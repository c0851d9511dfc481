//! [`PluginSpec`] (what to load) and [`Plugin`] (a loaded, compiled, linked and
//! config-checked plugin, ready to hand out instances).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::TransformPre;
use crate::cache::hex;
use crate::caps::Capabilities;
use crate::engine::{Engine, Shared};
use crate::error::HostError;
use crate::instance::{Live, PluginInstance};
use crate::restarts::{RestartStatus, Restarts};
use crate::state::State;

/// What to load: a `[[plugins]]` entry of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The name used in logs, errors and metrics.
    pub name: String,
    /// The component file (`.wasm`, built for `wasm32-wasip2`).
    pub wasm: PathBuf,
    /// The plugin's configuration as JSON text, handed to its `init`.
    pub config_json: String,
    /// Most bytes of linear memory one instance may use (all its memories together).
    /// Each batch is copied into this memory and the output is built there too, so it
    /// must hold about twice the largest batch plus what the plugin keeps; memory an
    /// instance has grown stays with it until the instance is dropped.
    pub max_memory: u64,
    /// Longest one call (`init` or `process`) may run.
    pub timeout: Duration,
}

impl PluginSpec {
    /// Default [`max_memory`](Self::max_memory): 64 MiB.
    pub const DEFAULT_MAX_MEMORY: u64 = 64 << 20;
    /// Default [`timeout`](Self::timeout): one second.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// A spec with an empty JSON object as config and the default limits.
    ///
    /// ```
    /// let spec = sluice_host::PluginSpec::new("strip-node", "plugins/tag_strip.wasm");
    /// assert_eq!(spec.config_json, "{}");
    /// assert_eq!(spec.max_memory, 64 << 20);
    /// ```
    pub fn new(name: impl Into<String>, wasm: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            wasm: wasm.into(),
            config_json: "{}".into(),
            max_memory: Self::DEFAULT_MAX_MEMORY,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// A loaded plugin: compiled (or taken from the cache), linked against the host's
/// imports, and proven to accept its config. Cloning is cheap; clones share the compiled
/// code. Create one [`PluginInstance`] per worker thread with [`Plugin::instance`].
#[derive(Clone, Debug)]
pub struct Plugin {
    pub(crate) inner: Arc<Inner>,
}

/// What a plugin's instances share.
pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    pub(crate) spec: PluginSpec,
    pub(crate) sha256: String,
    pub(crate) pre: TransformPre<State>,
    pub(crate) caps: Capabilities,
    /// Keeps the engine (and its epoch ticker) alive as long as the plugin is.
    pub(crate) engine: Arc<Shared>,
    cache_hit: bool,
    /// The instance `load` initialised to check the config, handed to the first caller
    /// of [`Plugin::instance`] rather than thrown away.
    spare: Mutex<Option<Live>>,
    /// Faults of its instances, and the backoff before starting new ones.
    pub(crate) restarts: Restarts,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("spec", &self.spec)
            .field("sha256", &self.sha256)
            .field("cache_hit", &self.cache_hit)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Reads, hashes and compiles (or loads from the cache) `spec.wasm`, links it, and
    /// runs `init` with `spec.config_json` on a fresh instance, so a plugin that rejects
    /// its config fails here with its own message ([`HostError::Init`]).
    ///
    /// ```no_run
    /// use sluice_host::{Engine, Plugin, PluginSpec, caps::Capabilities};
    /// let engine = Engine::new(None)?;
    /// let mut spec = PluginSpec::new("strip-node", "plugins/tag_strip.wasm");
    /// spec.config_json = r#"{"tags": ["node"]}"#.into();
    /// let caps = Capabilities::embedded("data/plugins".as_ref())?;
    /// let plugin = Plugin::load(&engine, spec, caps)?;
    /// println!("{} {}", plugin.name(), plugin.sha256());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(engine: &Engine, spec: PluginSpec, caps: Capabilities) -> Result<Self, HostError> {
        let shared = &engine.shared;
        let wasm = std::fs::read(&spec.wasm).map_err(|source| HostError::Io {
            plugin: spec.name.clone(),
            path: spec.wasm.clone(),
            source,
        })?;
        let sha256 = hex(&Sha256::digest(&wasm));
        let (component, cache_hit) = compile(shared, &spec, &wasm, &sha256)?;
        let link_error = |e: wasmtime::Error| HostError::Link {
            plugin: spec.name.clone(),
            message: format!("{e:#}"),
        };
        let instance_pre = shared
            .linker
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let pre = TransformPre::new(instance_pre).map_err(link_error)?;
        let inner = Arc::new(Inner {
            name: Arc::from(spec.name.as_str()),
            spec,
            sha256,
            pre,
            caps,
            engine: Arc::clone(shared),
            cache_hit,
            spare: Mutex::new(None),
            restarts: Restarts::default(),
        });
        let live = Live::start(&inner)?;
        *inner.spare.lock().unwrap_or_else(PoisonError::into_inner) = Some(live);
        tracing::debug!(plugin = %inner.name, sha256 = %inner.sha256, cache_hit, "plugin loaded");
        Ok(Self { inner })
    }

    /// The plugin's name (from its spec).
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) {
    /// println!("{}", plugin.name());
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The error for an output of this plugin that [`check_output`](crate::check_output)
    /// refused with `reason`: [`HostError::InvalidOutput`].
    pub fn invalid_output(&self, reason: String) -> HostError {
        HostError::InvalidOutput {
            plugin: self.inner.spec.name.clone(),
            reason,
        }
    }

    /// Lower-case hex SHA-256 of the component file, as loaded: what identifies the exact
    /// code that processed (or dead-lettered) a batch.
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) {
    /// assert_eq!(plugin.sha256().len(), 64);
    /// # }
    /// ```
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    /// The spec the plugin was loaded from.
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) {
    /// println!("timeout {:?}", plugin.spec().timeout);
    /// # }
    /// ```
    pub fn spec(&self) -> &PluginSpec {
        &self.inner.spec
    }

    /// Whether the compiled code came from the engine's on-disk cache rather than the
    /// compiler.
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) {
    /// println!("compiled: {}", !plugin.cache_hit());
    /// # }
    /// ```
    pub fn cache_hit(&self) -> bool {
        self.inner.cache_hit
    }

    /// An instance for one worker: its own store, memory and limits, initialised with the
    /// plugin's config. Reuse it for every batch that worker handles.
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) -> Result<(), sluice_host::HostError> {
    /// let mut instance = plugin.instance()?;
    /// let out = instance.process(&sluice_host::Context::default(), b"cpu v=1 1\n")?;
    /// # Ok(()) }
    /// ```
    pub fn instance(&self) -> Result<PluginInstance, HostError> {
        let spare = self
            .inner
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let live = match spare {
            Some(live) => live,
            None => self.start()?,
        };
        Ok(PluginInstance::new(self.clone(), live))
    }

    /// Its instances' faults and the backoff in effect (for `/health`).
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) {
    /// let status = plugin.restarts();
    /// println!("{} faults, backing off: {:?}", status.faults, status.backoff);
    /// # }
    /// ```
    pub fn restarts(&self) -> RestartStatus {
        self.inner.restarts.status()
    }

    /// Starts a new instance unless the plugin is backing off; a failed start counts as
    /// a fault.
    pub(crate) fn start(&self) -> Result<Live, HostError> {
        self.inner.restarts.check(&self.inner.spec.name)?;
        Live::start(&self.inner).inspect_err(|error| self.inner.restarts.fault(error))
    }
}

/// The compiled component for `wasm`, from the cache when it has it.
fn compile(
    shared: &Shared,
    spec: &PluginSpec,
    wasm: &[u8],
    sha256: &str,
) -> Result<(Component, bool), HostError> {
    if let Some(cache) = &shared.cache
        && let Some(component) = cache.load(&shared.wasmtime, sha256)
    {
        return Ok((component, true));
    }
    let component =
        Component::from_binary(&shared.wasmtime, wasm).map_err(|e| HostError::Compile {
            plugin: spec.name.clone(),
            path: spec.wasm.clone(),
            message: format!("{e:#}"),
        })?;
    if let Some(cache) = &shared.cache {
        match cache.store(&component, sha256) {
            Ok(path) => {
                tracing::debug!(plugin = %spec.name, path = %path.display(), "cached compiled plugin");
            }
            Err(error) => {
                tracing::warn!(plugin = %spec.name, error = %error, "cannot cache compiled plugin; it will be compiled again at next load");
            }
        }
    }
    Ok((component, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gateway shares plugins between threads and moves instances into blocking
    /// tasks.
    #[test]
    fn plugins_are_shareable_and_instances_movable() {
        fn shareable<T: Send + Sync>() {}
        fn movable<T: Send>() {}
        shareable::<Plugin>();
        shareable::<Engine>();
        movable::<PluginInstance>();
    }
}
