//! Hot reload: the config file and every plugin it names are reloaded without a restart,
//! on `POST /admin/reload`, `SIGHUP` or a change to one of the files (`watch`).
//!
//! A reload is staged, and any stage that fails leaves everything running as it was:
//!
//! 1. `config`: read, parse and validate the file;
//! 2. `load`: compile (a cache hit for an unchanged `.wasm`), instantiate and `init`
//!    every plugin, from the parts the app owns ([`ChainParts`]: engine, kv, blob,
//!    worker limit), so nothing is reopened;
//! 3. `canary`: run the new chain once on a one-point batch; it must forward it;
//! 4. `outputs`: added, removed and changed outputs are applied by name
//!    ([`Outputs::apply`]): a new one starts at the buffer's tail, a removed one stops
//!    between requests and releases its cursor, a changed one restarts on its cursor.
//!    This stage writes cursor files, so it comes before the swap: if it fails, the
//!    outputs it did change stay changed (and are reported), the chain does not;
//! 5. swap: the new chain (and `[server]` tokens and limits) serve every batch that starts
//!    from then on; batches in flight finish on the chain they started on, which is
//!    dropped, instances and all, when the last of them ends.
//!
//! Changes to listen addresses, the buffer, the backends and logging are reported as
//! needing a restart ([`Changes`]); the rest of the reload applies.
//! Reloads run one at a time.

mod changes;
mod report;
mod watch;

pub use changes::Changes;
pub use report::ReloadReport;
pub use watch::{watch_files, watch_signal};

use crate::batch::{Batch, Context, Origin};
use crate::chain::{self, Chain, ChainOutcome, ChainParts, Resend};
use crate::config::Config;
use crate::forward::Outputs;
use crate::ingest::{Limits, now_ns};
use crate::pipeline::Pipeline;
use crate::telemetry::Metrics;
use crate::telemetry::events::{ReloadApplied, ReloadFailed};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /admin/reload`.
    Admin,
    /// `SIGHUP`.
    Signal,
    /// A change to the config file or a plugin's `.wasm`.
    Watch,
}

impl Trigger {
    /// For logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Signal => "signal",
            Self::Watch => "watch",
        }
    }
}

/// The running configuration and what reloads build from; behind the reload lock.
struct Running {
    config: Config,
    /// Opened at start when there were plugins, else at the first reload that adds some.
    parts: Option<ChainParts>,
}

/// Applies reloads to the running gateway.
pub struct Reloader {
    path: PathBuf,
    running: tokio::sync::Mutex<Running>,
    pipeline: Arc<Pipeline>,
    limits: Arc<ArcSwap<Limits>>,
    metrics: Arc<Metrics>,
    outputs: Arc<Outputs>,
    /// The last reload's report, for `/health`.
    last: Mutex<Option<ReloadReport>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader of the config at `path`, now running as `config` with `parts` (`None`
    /// when there were no plugins at start).
    pub fn new(
        path: &Path,
        config: Config,
        parts: Option<ChainParts>,
        pipeline: Arc<Pipeline>,
        limits: Arc<ArcSwap<Limits>>,
        metrics: Arc<Metrics>,
        outputs: Arc<Outputs>,
    ) -> Self {
        Self {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            running: tokio::sync::Mutex::new(Running { config, parts }),
            pipeline,
            limits,
            metrics,
            outputs,
            last: Mutex::new(None),
        }
    }

    /// The config file (absolute).
    pub fn config_path(&self) -> &Path {
        &self.path
    }

    /// The files a change to which triggers a reload: the config and every plugin's
    /// `.wasm`, absolute.
    pub async fn watched_files(&self) -> Vec<PathBuf> {
        let running = self.running.lock().await;
        let mut files = vec![self.path.clone()];
        files.extend(
            running
                .config
                .plugins
                .iter()
                .map(|p| std::path::absolute(&p.wasm).unwrap_or_else(|_| p.wasm.clone())),
        );
        files
    }

    /// The last reload's report as JSON, `null` before the first.
    pub fn report(&self) -> serde_json::Value {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(serde_json::Value::Null, ReloadReport::to_json)
    }

    /// Reloads now (waiting for a reload in progress first) and reports the outcome,
    /// which is also logged, counted in `sluice_reloads_total{result}` and kept for
    /// `/health`.
    pub async fn reload(&self, trigger: Trigger) -> ReloadReport {
        let started = Instant::now();
        let mut running = self.running.lock().await;
        let report = match self.stages(&mut running).await {
            Ok((generation, changes)) => {
                ReloadApplied {
                    trigger: trigger.as_str(),
                    generation,
                    applied: &changes.applied,
                    restart_needed: &changes.restart_needed,
                    elapsed: started.elapsed(),
                }
                .emit(&self.metrics);
                ReloadReport::applied(trigger, generation, changes, started.elapsed())
            }
            Err((stage, error)) => {
                ReloadFailed {
                    trigger: trigger.as_str(),
                    stage,
                    error: &error,
                }
                .emit(&self.metrics);
                ReloadReport::failed(trigger, stage, error, started.elapsed())
            }
        };
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(report.clone());
        report
    }

    /// The stages; `Err((stage, why))` leaves everything as it was.
    async fn stages(
        &self,
        running: &mut Running,
    ) -> Result<(u64, Changes), (&'static str, String)> {
        let path = self.path.clone();
        let next = blocking(move || Config::load(&path))
            .await
            .map_err(|e| ("config", e))?
            .map_err(|e| ("config", e.to_string()))?;
        // As `sluice run` and `sluice check`: without an output nothing accepted could
        // ever leave the buffer.
        if next.outputs.is_empty() {
            return Err(("config", crate::app::AppError::NoOutputs.to_string()));
        }
        let live = self.pipeline.chain();
        if running.parts.is_none() && !next.plugins.is_empty() {
            let config = next.clone();
            let parts = blocking(move || ChainParts::open(&config))
                .await
                .map_err(|e| ("load", e))?
                .map_err(|e| ("load", e.to_string()))?;
            running.parts = Some(parts);
        }
        let generation = live.generation() + 1;
        let chain = match &running.parts {
            None => Chain::empty().with_generation(generation),
            Some(parts) => {
                let (config, parts, metrics) =
                    (next.clone(), parts.clone(), Arc::clone(&self.metrics));
                blocking(move || chain::load_with(&config, &parts, metrics))
                    .await
                    .map_err(|e| ("load", e))?
                    .map_err(|e| ("load", e.to_string()))?
                    .with_generation(generation)
            }
        };
        let plugins_changed = chain.identity() != live.identity();
        let changes = Changes::between(&running.config, &next, plugins_changed);
        if !changes.applies_anything() {
            // Nothing that runs differs (a touch, a rewrite with the same text): keep the
            // running chain and its warm instances.
            return Ok((live.generation(), changes));
        }
        canary(&chain).await.map_err(|e| ("canary", e))?;
        let mut now = Changes::running_config(&running.config, &next);
        if changes.applied.iter().any(|s| s == "outputs") {
            // Before the swap: outputs touch the buffer (cursor files), the one stage
            // that can still fail; if it does, the old chain, tokens and limits stay.
            let (outputs, applied) = self.outputs.apply(&next.outputs).await;
            if let Err(e) = applied {
                running.config.outputs = outputs;
                return Err(("outputs", e.to_string()));
            }
            now.outputs = outputs;
        }
        self.pipeline.swap_chain(chain);
        self.limits.store(Arc::new(Limits::from_config(&next)));
        running.config = now;
        Ok((generation, changes))
    }
}

/// Runs the new chain on a one-point batch: it must forward it (a chain that fails,
/// traps or finds its backends unavailable on it never serves).
async fn canary(chain: &Chain) -> Result<(), String> {
    let line = format!("sluice_reload_canary,sluice=canary value=1i {}\n", now_ns());
    let context = Context {
        db: "_sluice_canary".to_owned(),
        rp: None,
    };
    let batch = Batch::from_lines(context, line.as_bytes(), 1);
    match chain
        .run(batch, &Origin::client(None), Resend::Possible)
        .await
    {
        ChainOutcome::Forward(_) => Ok(()),
        ChainOutcome::DeadLetter { failure, .. }
        | ChainOutcome::Dropped { failure, .. }
        | ChainOutcome::Unavailable(failure) => Err(format!(
            "the new chain failed on a canary batch: plugin {:?} ({}): {}",
            failure.plugin, failure.kind, failure.error
        )),
    }
}

/// Runs `work` on a blocking thread; a panic in it is reported, not propagated.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the reload task failed: {e}"))
}
