//! # sluice-host
//!
//! Sluice's WebAssembly plugin host: loads transform plugins (components implementing
//! the `sluice:plugin/transform` world of `wit/plugin.wit`) and runs batches of canonical
//! line protocol through them, each plugin boxed in by its own memory limit and deadline.
//! This is the only crate that knows wasmtime; it knows nothing about HTTP.
//!
//! ```no_run
//! use sluice_host::{Context, Engine, Plugin, PluginSpec, caps::Capabilities};
//! let engine = Engine::new(Some("data/plugin-cache".into()))?;
//! let mut spec = PluginSpec::new("strip-node", "plugins/tag_strip.wasm");
//! spec.config_json = r#"{"tags": ["node"]}"#.into();
//! let plugin = Plugin::load(&engine, spec, Capabilities::embedded("data/plugins".as_ref())?)?;
//! let mut instance = plugin.instance()?; // one per worker thread, reused
//! let out = instance.process(&Context::default(), b"http,node=n1 d=3i 1\n")?;
//! assert_eq!(out, b"http d=3i 1\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! - [`Engine`] (`engine`): the wasmtime engine, its linker and epoch ticker (`ticker`),
//!   and the compiled-component disk cache (`cache`, the one `unsafe` deserialisation).
//! - [`Plugin`], [`PluginSpec`] (`plugin`): load = read, hash, compile, link, `init`.
//! - [`PluginInstance`] (`instance`): one store per worker; calls under limits, faults
//!   become [`HostError`]s and drop the instance; `output` checks what a plugin returns.
//! - `state`: the store's data and the `kv`/`blob`/`log` import implementations;
//!   `limits` (memory), `sleep` (no sleeping past a deadline), `stdio` (captured output).
//! - [`caps`]: the capability backends — [`caps::kv`], [`caps::blob`], `log`, and
//!   [`caps::recording`] for observing a plugin's writes.
//! - `bindings`: the `bindgen!` output, private.

mod bindings;
mod cache;
pub mod caps;
mod context;
mod engine;
mod error;
mod instance;
mod limits;
mod output;
mod plugin;
pub mod restarts;
mod sleep;
mod state;
mod stdio;
mod ticker;

pub use context::Context;
pub use engine::Engine;
pub use error::HostError;
pub use instance::PluginInstance;
pub use output::check_output;
pub use plugin::{Plugin, PluginSpec};
pub use restarts::RestartStatus;
