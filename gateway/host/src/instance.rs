//! [`PluginInstance`]: one worker's long-lived instance of a plugin. Every call into
//! the guest runs under the plugin's deadline and memory limit; afterwards the guest's
//! log budget is settled and its stdout/stderr go to the log. A call that traps, times
//! out or hits the memory limit drops the instance — a faulted instance is never
//! reused — and the next batch gets a fresh one.

use std::time::Instant;

use wasmtime::{Store, Trap, WasmBacktrace};

use crate::bindings::Transform;
use crate::bindings::sluice::plugin::types::PluginError;
use crate::caps::log::forward_output;
use crate::context::Context;
use crate::error::{HostError, truncate_head, truncate_tail};
use crate::limits::LimitExceeded;
use crate::output::check_output;
use crate::plugin::{Inner, Plugin};
use crate::state::State;
use crate::stdio::CapturedOutput;
use crate::ticker::ticks_for;

/// A plugin instance owned by one worker. Not shared between threads (it is `Send`, so it
/// can move into a blocking task); create one per worker with
/// [`Plugin::instance`](crate::Plugin::instance).
#[derive(Debug)]
pub struct PluginInstance {
    plugin: Plugin,
    /// The running instance; `None` after a fault, until the next call starts a new one.
    live: Option<Live>,
}

/// A running instance: store and bindings.
pub(crate) struct Live {
    store: Store<State>,
    bindings: Transform,
    stdout: CapturedOutput,
    stderr: CapturedOutput,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    /// Instantiates the plugin and runs its `init` with the configured JSON.
    pub(crate) fn start(plugin: &Inner) -> Result<Self, HostError> {
        let stdout = CapturedOutput::default();
        let stderr = CapturedOutput::default();
        let state = State::new(
            std::sync::Arc::clone(&plugin.name),
            plugin.caps.clone(),
            plugin.spec.max_memory,
            &stdout,
            &stderr,
        );
        let mut store = Store::new(&plugin.engine.wasmtime, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        let instantiated = guarded(plugin, &mut store, &stdout, &stderr, |store| {
            plugin.pre.instantiate(store)
        });
        let bindings = instantiated?;
        let mut live = Self {
            store,
            bindings,
            stdout,
            stderr,
        };
        let config = plugin.spec.config_json.as_str();
        match live.call(plugin, |store, bindings| bindings.call_init(store, config))? {
            Ok(()) => Ok(live),
            Err(message) => Err(HostError::Init {
                plugin: plugin.spec.name.clone(),
                message: truncate_head(&message),
            }),
        }
    }

    /// Runs `f` against this instance under the plugin's limits.
    fn call<R>(
        &mut self,
        plugin: &Inner,
        f: impl FnOnce(&mut Store<State>, &Transform) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let bindings = &self.bindings;
        guarded(
            plugin,
            &mut self.store,
            &self.stdout,
            &self.stderr,
            |store| f(store, bindings),
        )
    }
}

/// Runs `f` with the call's deadline set, then forwards the guest's output to the log
/// and turns a failure into the matching [`HostError`].
fn guarded<R>(
    plugin: &Inner,
    store: &mut Store<State>,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
    f: impl FnOnce(&mut Store<State>) -> wasmtime::Result<R>,
) -> Result<R, HostError> {
    let timeout = plugin.spec.timeout;
    store.set_epoch_deadline(ticks_for(timeout));
    store.data_mut().call_deadline = Instant::now().checked_add(timeout);
    let result = f(store);
    let state = store.data_mut();
    state.call_deadline = None;
    state.log.finish_call(&plugin.name);
    forward_output(&plugin.name, "stdout", &stdout.take());
    let stderr = stderr.take();
    forward_output(&plugin.name, "stderr", &stderr);
    result.map_err(|error| {
        let name = plugin.spec.name.clone();
        if store.data().limiter.tripped() || error.downcast_ref::<LimitExceeded>().is_some() {
            HostError::MemoryLimit {
                plugin: name,
                limit: plugin.spec.max_memory,
            }
        } else if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            HostError::Timeout {
                plugin: name,
                after: timeout,
            }
        } else {
            let backtrace = error
                .downcast_ref::<WasmBacktrace>()
                .map(|b| truncate_head(&format!("wasm backtrace: {}", one_line(&b.to_string()))))
                .unwrap_or_default();
            HostError::Trap {
                plugin: name,
                message: truncate_head(&error.root_cause().to_string()),
                stderr: truncate_tail(stderr.trim_end()),
                backtrace,
            }
        }
    })
}

impl PluginInstance {
    pub(crate) fn new(plugin: Plugin, live: Live) -> Self {
        Self {
            plugin,
            live: Some(live),
        }
    }

    /// The plugin this is an instance of.
    ///
    /// ```no_run
    /// # fn f(instance: sluice_host::PluginInstance) {
    /// println!("{}", instance.plugin().name());
    /// # }
    /// ```
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Runs one batch of canonical line protocol through the plugin and returns its
    /// output, checked to be canonical line protocol too: any line that is not (a syntax
    /// error, a missing timestamp, extra spaces, …) fails the whole batch with
    /// [`HostError::InvalidOutput`].
    ///
    /// After a trap, timeout or memory-limit error the instance is discarded; the next
    /// call starts (and `init`s) a new one and returns its error if that fails.
    ///
    /// ```no_run
    /// # fn f(plugin: sluice_host::Plugin) -> Result<(), sluice_host::HostError> {
    /// let mut instance = plugin.instance()?;
    /// let ctx = sluice_host::Context { db: "flood".into(), ..Default::default() };
    /// let out = instance.process(&ctx, b"http,node=n1 d=12i 1700000000000000000\n")?;
    /// # Ok(()) }
    /// ```
    pub fn process(&mut self, ctx: &Context, batch: &[u8]) -> Result<Vec<u8>, HostError> {
        let output = self.process_unchecked(ctx, batch)?;
        match check_output(&output) {
            Ok(_) => Ok(output),
            Err(reason) => Err(self.plugin.invalid_output(reason)),
        }
    }

    /// [`PluginInstance::process`] without the output check: for a chain that checks
    /// only its last plugin's output with [`check_output`] (and, when that fails, each
    /// plugin's, to name the culprit with [`Plugin::invalid_output`]). What it
    /// returns must not leave the chain unchecked.
    ///
    /// Errors: as [`PluginInstance::process`], except [`HostError::InvalidOutput`].
    pub fn process_unchecked(&mut self, ctx: &Context, batch: &[u8]) -> Result<Vec<u8>, HostError> {
        let inner = &self.plugin.inner;
        let live = match &mut self.live {
            Some(live) => live,
            None => self.live.insert(self.plugin.start()?),
        };
        let wit_ctx = ctx.to_wit();
        let result = live.call(inner, |store, bindings| {
            bindings.call_process(store, &wit_ctx, batch)
        });
        if result.is_ok() {
            inner.restarts.success();
        }
        match result {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(error)) => {
                let (message, retryable) = match error {
                    PluginError::Rejected(m) => (m, false),
                    PluginError::Unavailable(m) => (m, true),
                };
                Err(HostError::PluginError {
                    plugin: inner.spec.name.clone(),
                    message: truncate_head(&message),
                    retryable,
                })
            }
            Err(fault) => {
                self.live = None;
                inner.restarts.fault(&fault);
                Err(fault)
            }
        }
    }
}

/// `text`'s lines joined with `; `, their indentation dropped.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
