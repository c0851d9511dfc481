//! [`Outputs`]: the running forwarders, one per `[[outputs]]`, which a reload can add,
//! remove and restart one by one.

use super::{Forwarder, OutputHealth, Sender};
use crate::buffer::{Consumer, Queue, QueueError};
use crate::config::{Api, OutputConfig};
use crate::dead_letter::DeadLetters;
use crate::statement_answers::StatementAnswers;
use crate::telemetry::Metrics;
use arc_swap::ArcSwap;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A change to the outputs that could not be applied; the outputs changed before it stay.
#[derive(Debug, thiserror::Error)]
#[error("output {output:?}: {source}")]
pub struct OutputsError {
    /// The output's name.
    pub output: String,
    /// What the buffer refused (an I/O error on its cursor file, ...).
    pub source: QueueError,
}

/// What a forwarder needs besides its config and cursor; shared by all of them.
pub struct Shared {
    /// The buffer the forwarders drain.
    pub queue: Queue,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// Where refused batches go.
    pub dead_letters: Arc<DeadLetters>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Where a forwarder hands the store's answer to a statement a request waits for.
    pub statement_answers: Arc<StatementAnswers>,
}

/// One running forwarder.
struct Running {
    config: OutputConfig,
    health: Arc<OutputHealth>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The running forwarders, in configuration order, and their `/health` state.
pub struct Outputs {
    shared: Shared,
    /// Parent of every forwarder's token: cancelling it stops them all.
    shutdown: CancellationToken,
    running: tokio::sync::Mutex<Vec<Running>>,
    health: ArcSwap<Vec<Arc<OutputHealth>>>,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self
            .health
            .load()
            .iter()
            .map(|h| h.name().to_owned())
            .collect();
        f.debug_struct("Outputs")
            .field("outputs", &names)
            .finish_non_exhaustive()
    }
}

impl Outputs {
    /// No forwarder yet; each one's token is a child of `shutdown`.
    pub fn new(shared: Shared, shutdown: CancellationToken) -> Self {
        Self {
            shared,
            shutdown,
            running: tokio::sync::Mutex::new(Vec::new()),
            health: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Where requests wait for the store's answers to their statements.
    pub fn statement_answers(&self) -> &Arc<StatementAnswers> {
        &self.shared.statement_answers
    }

    /// The outputs' `/health` state, in configuration order.
    pub fn health(&self) -> Arc<Vec<Arc<OutputHealth>>> {
        self.health.load_full()
    }

    /// Starts the configured outputs at startup, each on its configured consumer (which
    /// resumes after its last acknowledged record).
    pub async fn start(&self, configs: &[OutputConfig]) -> Result<(), OutputsError> {
        let mut running = self.running.lock().await;
        for config in configs {
            let consumer =
                self.shared
                    .queue
                    .consumer(&config.name)
                    .map_err(|source| OutputsError {
                        output: config.name.clone(),
                        source,
                    })?;
            running.push(self.spawn(config, consumer));
        }
        self.publish(&running);
        Ok(())
    }

    /// Makes the running outputs those of `next`, by name: a new one starts at the
    /// buffer's tail with its own cursor; a removed one stops between requests and its
    /// cursor is released; a changed one stops and starts again on the same cursor, so
    /// it resumes after its last acknowledged record. New outputs are added before old
    /// ones are removed, so the buffer always has a consumer. Returns the configs that
    /// run afterwards (all of `next` unless a change failed).
    pub async fn apply(
        &self,
        next: &[OutputConfig],
    ) -> (Vec<OutputConfig>, Result<(), OutputsError>) {
        let mut running = self.running.lock().await;
        let result = self.apply_locked(&mut running, next).await;
        self.publish(&running);
        let configs = running.iter().map(|r| r.config.clone()).collect();
        (configs, result)
    }

    async fn apply_locked(
        &self,
        running: &mut Vec<Running>,
        next: &[OutputConfig],
    ) -> Result<(), OutputsError> {
        for config in next {
            let current = running.iter().position(|r| r.config.name == config.name);
            match current {
                None => {
                    let queue = self.shared.queue.clone();
                    let name = config.name.clone();
                    let added = tokio::task::spawn_blocking(move || queue.add_consumer(&name))
                        .await
                        .unwrap_or(Err(QueueError::Closed));
                    let consumer = added.map_err(|source| OutputsError {
                        output: config.name.clone(),
                        source,
                    })?;
                    tracing::info!(output = %config.name, url = %config.url, "output added: starts at the buffer's tail");
                    running.push(self.spawn(config, consumer));
                }
                Some(index) if format!("{:?}", running[index].config) != format!("{config:?}") => {
                    let old = running.remove(index);
                    stop(old).await;
                    let consumer = self.shared.queue.consumer(&config.name).map_err(|source| {
                        OutputsError {
                            output: config.name.clone(),
                            source,
                        }
                    })?;
                    tracing::info!(output = %config.name, url = %config.url, "output changed: restarted where it stopped");
                    running.insert(index, self.spawn(config, consumer));
                }
                Some(_) => {}
            }
        }
        while let Some(index) = running
            .iter()
            .position(|r| !next.iter().any(|c| c.name == r.config.name))
        {
            let old = running.remove(index);
            let name = old.config.name.clone();
            stop(old).await;
            let queue = self.shared.queue.clone();
            let removing = name.clone();
            tokio::task::spawn_blocking(move || queue.remove_consumer(&removing))
                .await
                .unwrap_or(Err(QueueError::Closed))
                .map_err(|source| OutputsError {
                    output: name.clone(),
                    source,
                })?;
            tracing::info!(output = %name, "output removed: its buffer cursor is released");
        }
        // Configuration order, for `/health`.
        running.sort_by_key(|r| next.iter().position(|c| c.name == r.config.name));
        Ok(())
    }

    /// Stops every forwarder between requests and waits for them to end.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        let mut running = self.running.lock().await;
        for old in running.drain(..) {
            stop(old).await;
        }
    }

    fn spawn(&self, config: &OutputConfig, consumer: Consumer) -> Running {
        let api = match config.api {
            Api::V1 => "v1",
            Api::V2 => "v2",
        };
        let health = Arc::new(OutputHealth::new(&config.name, &config.url, api));
        let forwarder = Forwarder {
            config: config.clone(),
            consumer,
            sender: Sender::new(self.shared.http.clone(), config.clone()),
            dead_letters: Arc::clone(&self.shared.dead_letters),
            metrics: Arc::clone(&self.shared.metrics),
            health: Arc::clone(&health),
            statement_answers: Arc::clone(&self.shared.statement_answers),
        };
        let stop = self.shutdown.child_token();
        let task = tokio::spawn(forwarder.run(stop.clone()));
        Running {
            config: config.clone(),
            health,
            stop,
            task,
        }
    }

    fn publish(&self, running: &[Running]) {
        self.health.store(Arc::new(
            running.iter().map(|r| Arc::clone(&r.health)).collect(),
        ));
    }
}

/// Stops one forwarder between requests and waits until it has ended (and dropped its
/// consumer).
async fn stop(old: Running) {
    old.stop.cancel();
    if let Err(e) = old.task.await {
        tracing::error!(output = %old.config.name, error = %e, "forwarder task failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn outputs(text: &[(&str, &str)]) -> Vec<OutputConfig> {
        let toml: String = text
            .iter()
            .map(|(name, url)| format!("[[outputs]]\nname = \"{name}\"\nurl = \"{url}\"\n"))
            .collect();
        Config::parse(&toml).unwrap().outputs
    }

    fn names(outputs: &Outputs) -> Vec<String> {
        outputs
            .health()
            .iter()
            .map(|h| h.name().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn apply_adds_removes_and_restarts_by_name() {
        let queue = Queue::memory(sluice_buffer::MemoryOptions {
            max_size: 1 << 20,
            consumers: vec!["a".to_owned()],
        });
        let dir = tempfile::tempdir().unwrap();
        let shared = Shared {
            queue: queue.clone(),
            http: reqwest::Client::new(),
            dead_letters: Arc::new(DeadLetters::open(dir.path()).unwrap()),
            metrics: Arc::new(Metrics::new()),
            statement_answers: Arc::default(),
        };
        let all = Outputs::new(shared, CancellationToken::new());
        let dead = "http://127.0.0.1:9";
        all.start(&outputs(&[("a", dead)])).await.unwrap();
        assert_eq!(names(&all), ["a"]);

        let (running, applied) = all.apply(&outputs(&[("b", dead), ("a", dead)])).await;
        applied.unwrap();
        assert_eq!(running.len(), 2);
        assert_eq!(names(&all), ["b", "a"], "configuration order");
        assert_eq!(queue.stats().consumers.len(), 2);

        let (_, applied) = all.apply(&outputs(&[("b", "http://127.0.0.1:10")])).await;
        applied.unwrap();
        assert_eq!(names(&all), ["b"]);
        let consumers: Vec<String> = queue
            .stats()
            .consumers
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(consumers, ["b"], "a's cursor is released");
        assert_eq!(all.health()[0].report().url, "http://127.0.0.1:10");
        all.shutdown().await;
    }
}
