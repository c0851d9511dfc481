//! The plugin chain: every accepted batch passes through the configured WebAssembly
//! plugins, in order, before it is appended to the buffer (so a 204 still means "durably
//! accepted, transformed"). With no plugins configured the batch passes through
//! untouched, without a copy.
//!
//! Plugins run on blocking threads, at most one batch per worker at a time; each worker
//! holds one instance of every plugin (`pool`). A plugin that fails on a batch sends it
//! down that plugin's `on_error` path (`outcome`); `load` builds the chain from the
//! configuration.

mod load;
mod outcome;
mod pool;

pub use load::{ChainError, ChainParts, load, load_with, open_capabilities};
pub use outcome::{ChainOutcome, PluginFailure, Resend, host_context};

use crate::batch::{Batch, Origin};
use crate::config::OnError;
use crate::telemetry::Metrics;
use crate::telemetry::events::{PluginFailed, PluginRan};
use pool::{InstancePool, InstanceSet};
use sluice_host::{Plugin, PluginInstance};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio::sync::Semaphore;

/// One plugin of the chain and what to do when it fails.
#[derive(Debug)]
pub struct Stage {
    /// The loaded plugin.
    pub plugin: Plugin,
    /// Its `on_error` path.
    pub on_error: OnError,
}

/// The ordered plugins every batch runs through. Cloning is cheap; clones share the
/// plugins and their instances.
#[derive(Debug, Clone)]
pub struct Chain {
    inner: Option<Arc<Inner>>,
    /// Which load this is: 0 at start, +1 per applied reload.
    generation: u64,
    /// When it was built.
    loaded_at: SystemTime,
}

#[derive(Debug)]
struct Inner {
    stages: Vec<Stage>,
    names: Vec<String>,
    pool: InstancePool,
    workers: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl Chain {
    /// A chain with no plugins: batches pass through unchanged.
    pub fn empty() -> Self {
        Self {
            inner: None,
            generation: 0,
            loaded_at: SystemTime::now(),
        }
    }

    /// A chain of `stages`, run by at most as many batches at once as `workers` has
    /// permits. The semaphore belongs to the app and is shared by every generation of the
    /// chain, so a reload never changes how many batches run at once.
    pub fn new(stages: Vec<Stage>, workers: Arc<Semaphore>, metrics: Arc<Metrics>) -> Self {
        if stages.is_empty() {
            return Self::empty();
        }
        let names = stages.iter().map(|s| s.plugin.name().to_owned()).collect();
        Self {
            inner: Some(Arc::new(Inner {
                pool: InstancePool::new(stages.len()),
                names,
                stages,
                workers,
                metrics,
            })),
            ..Self::empty()
        }
    }

    /// The chain numbered `generation` (see [`Chain::generation`]).
    #[must_use]
    pub fn with_generation(mut self, generation: u64) -> Self {
        self.generation = generation;
        self
    }

    /// Which load this chain is: 0 at start, one more per applied reload.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The plugins in order as `(name, sha256)`: what the chain runs, whatever its
    /// instances' faults.
    pub fn identity(&self) -> Vec<(&str, &str)> {
        self.inner
            .iter()
            .flat_map(|inner| &inner.stages)
            .map(|s| (s.plugin.name(), s.plugin.sha256()))
            .collect()
    }

    /// The chain for `/health`: `{"generation": 3, "loaded_at": "2026-…Z", "plugins":
    /// [{"name": "strip", "sha256": "…", "faults": 0, "consecutive_faults": 0,
    /// "backoff_ms": null, "last_fault": null}]}`; `backoff_ms` is the time left before
    /// a plugin that keeps faulting may start a new instance (see
    /// [`sluice_host::restarts`]).
    pub fn describe(&self) -> serde_json::Value {
        let plugins: Vec<serde_json::Value> = self
            .inner
            .iter()
            .flat_map(|inner| &inner.stages)
            .map(|s| {
                let restarts = s.plugin.restarts();
                serde_json::json!({
                    "name": s.plugin.name(),
                    "sha256": s.plugin.sha256(),
                    "faults": restarts.faults,
                    "consecutive_faults": restarts.consecutive,
                    "backoff_ms": restarts.backoff.map(|b| u64::try_from(b.as_millis()).unwrap_or(u64::MAX)),
                    "last_fault": restarts.last_fault,
                })
            })
            .collect();
        serde_json::json!({
            "generation": self.generation,
            "loaded_at": humantime::format_rfc3339_seconds(self.loaded_at).to_string(),
            "plugins": plugins,
        })
    }

    /// Plugin names in order (for `/health`).
    pub fn names(&self) -> &[String] {
        match &self.inner {
            Some(inner) => &inner.names,
            None => &[],
        }
    }

    /// Runs `batch` through every plugin, on a blocking thread.
    pub async fn run(&self, batch: Batch, origin: &Origin, resend: Resend) -> ChainOutcome {
        let Some(inner) = &self.inner else {
            return ChainOutcome::Forward(batch);
        };
        // The app never closes the semaphore; were it closed, fail closed: a batch is
        // never forwarded past plugins that did not run it.
        let Ok(permit) = Arc::clone(&inner.workers).acquire_owned().await else {
            let failure = PluginFailure {
                plugin: "chain".to_owned(),
                sha256: None,
                kind: "chain_closed",
                error: "the plugin chain is not running".to_owned(),
            };
            return match resend {
                Resend::Possible => ChainOutcome::Unavailable(failure),
                Resend::Impossible => ChainOutcome::DeadLetter { batch, failure },
            };
        };
        let inner = Arc::clone(inner);
        let origin = origin.clone();
        let original = batch.clone();
        let ran = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.run_blocking(batch, &origin, resend)
        })
        .await;
        match ran {
            Ok(outcome) => outcome,
            // Only a panic in the host (not in a plugin: those are traps) gets here.
            Err(join) => ChainOutcome::DeadLetter {
                batch: original,
                failure: PluginFailure {
                    plugin: "chain".to_owned(),
                    sha256: None,
                    kind: "host_panic",
                    error: format!("the plugin host failed: {join}"),
                },
            },
        }
    }
}

impl Inner {
    /// Runs `batch` through the stages with one worker's instances.
    fn run_blocking(&self, batch: Batch, origin: &Origin, resend: Resend) -> ChainOutcome {
        let mut set = self.pool.take();
        let outcome = self.run_stages(&mut set, batch, origin, resend);
        self.pool.put(set);
        outcome
    }

    /// Runs the stages. Only the last output is checked to be canonical (one walk that
    /// also counts its points). When that check fails, or a plugin fails on what an
    /// unchecked one gave it, the outputs so far are checked in order: the first bad
    /// one's plugin takes its `on_error` path, as if it had failed, and with `pass` the
    /// stages after it run again, each output checked (their side effects, such as ids
    /// assigned or blobs written, may then happen twice).
    fn run_stages(
        &self,
        set: &mut InstanceSet,
        batch: Batch,
        origin: &Origin,
        resend: Resend,
    ) -> ChainOutcome {
        let ctx = host_context(batch.context(), origin);
        // What each stage that succeeded returned, in order, with its stage index.
        let mut outputs: Vec<(usize, Vec<u8>)> = Vec::with_capacity(self.stages.len());
        let mut from = 0;
        let mut checked = false;
        loop {
            // The first output that is not canonical, and why.
            let mut bad: Option<(usize, String)> = None;
            for (i, (stage, slot)) in self
                .stages
                .iter()
                .zip(set.iter_mut())
                .enumerate()
                .skip(from)
            {
                let input = outputs.last().map_or(batch.lines(), |(_, o)| o.as_slice());
                let started = Instant::now();
                let result = process(&stage.plugin, slot, &ctx, input, checked);
                PluginRan {
                    plugin: stage.plugin.name(),
                    elapsed: started.elapsed(),
                }
                .emit(&self.metrics);
                match result {
                    Ok(output) => outputs.push((i, output)),
                    Err(error) => {
                        // Blame a plugin that fed this one bad lines, not this one.
                        bad = if checked { None } else { first_bad(&outputs) };
                        if bad.is_some() {
                            break;
                        }
                        if let Some(outcome) = self.fail(stage, &error, batch.clone(), resend) {
                            return outcome;
                        }
                    }
                }
            }
            let (at, reason) = match bad {
                Some(bad) => bad,
                None => {
                    let Some((_, last)) = outputs.last_mut() else {
                        return ChainOutcome::Forward(batch);
                    };
                    match sluice_host::check_output(last) {
                        Ok(points) => {
                            // The chain's lines, in the buffer they came in, with the
                            // batch's context.
                            let context = batch.context().clone();
                            let lines = std::mem::take(last);
                            return ChainOutcome::Forward(Batch::with_lines(
                                context, lines, points,
                            ));
                        }
                        Err(reason) => first_bad(&outputs).unwrap_or((outputs.len() - 1, reason)),
                    }
                }
            };
            let culprit = outputs.get(at).map_or(0, |(stage, _)| *stage);
            outputs.truncate(at);
            let Some(stage) = self.stages.get(culprit) else {
                return ChainOutcome::Forward(batch);
            };
            let error = stage.plugin.invalid_output(reason);
            if let Some(outcome) = self.fail(stage, &error, batch.clone(), resend) {
                return outcome;
            }
            from = culprit + 1;
            checked = true;
        }
    }

    /// Records that `stage` failed on `batch` with `error` and decides: `Some` outcome
    /// to return (refused, dropped or dead-lettered), or `None` to go on without this
    /// plugin's output (`on_error = "pass"`).
    fn fail(
        &self,
        stage: &Stage,
        error: &sluice_host::HostError,
        batch: Batch,
        resend: Resend,
    ) -> Option<ChainOutcome> {
        let failure = PluginFailure::new(&stage.plugin, error);
        let refuse = error.is_retryable() && resend == Resend::Possible;
        PluginFailed {
            plugin: stage.plugin.name(),
            kind: failure.kind,
            action: if refuse {
                "refused"
            } else {
                stage.on_error.as_str()
            },
            points: batch.points(),
            error: &failure.error,
        }
        .emit(&self.metrics);
        if refuse {
            return Some(ChainOutcome::Unavailable(failure));
        }
        match stage.on_error {
            OnError::Pass => None,
            OnError::Drop => Some(ChainOutcome::Dropped {
                points: batch.points(),
                failure,
            }),
            OnError::DeadLetter => Some(ChainOutcome::DeadLetter { batch, failure }),
        }
    }
}

/// Runs one plugin, creating the worker's instance of it on first use; its output is
/// checked only when `checked` (else the chain checks the last output).
fn process(
    plugin: &Plugin,
    slot: &mut Option<PluginInstance>,
    ctx: &sluice_host::Context,
    input: &[u8],
    checked: bool,
) -> Result<Vec<u8>, sluice_host::HostError> {
    let instance = match slot {
        Some(instance) => instance,
        None => slot.insert(plugin.instance()?),
    };
    if checked {
        instance.process(ctx, input)
    } else {
        instance.process_unchecked(ctx, input)
    }
}

/// The index in `outputs` of the first that is not canonical line protocol, and why.
fn first_bad(outputs: &[(usize, Vec<u8>)]) -> Option<(usize, String)> {
    outputs
        .iter()
        .enumerate()
        .find_map(|(at, (_, o))| sluice_host::check_output(o).err().map(|r| (at, r)))
}

/// Points in canonical line protocol: each ends at a line feed outside a string value
/// and not escaped by a backslash (empty lines are not points). When every line is one
/// point ([`crate::point_lines`]) they are counted by a SIMD search for line feeds;
/// otherwise the points are walked.
pub fn count_points(lines: &[u8]) -> usize {
    crate::point_lines::point_lines(lines).map_or_else(
        || sluice_lineproto::trusted_points(lines).count(),
        Iterator::count,
    )
}
