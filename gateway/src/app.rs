//! Assembles a running gateway from its configuration: dead-letter store, buffer, chain,
//! forwarders, HTTP and UDP ingest; and takes it down in order on shutdown (stop
//! accepting, finish in-flight requests, stop forwarders between requests, close the
//! buffer).

use crate::buffer;
use crate::chain::{self, ChainError, ChainParts};
use crate::config::{BufferKind, Config};
use crate::dead_letter::{DeadLetterError, DeadLetters};
use crate::forward::{Outputs, Shared};
use crate::ingest::{self, AppState, Limits, UdpListener};
use crate::pipeline::Pipeline;
use crate::reload::{self, Reloader};
use crate::stage::{self, Stage};
use crate::telemetry::Metrics;
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the gateway could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The buffer could not be opened (locked by another process, unreadable, ...).
    #[error("buffer: {0}")]
    Buffer(#[from] buffer::QueueError),
    /// The relay's merge journal cannot be opened (`[merge] dir`, locked, unreadable).
    #[error("merge journal: {0}")]
    MergeJournal(buffer::QueueError),
    /// The dead-letter directory is unusable.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
    /// The plugin chain could not be built (a plugin failed to load or rejected its
    /// config).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Serve(std::io::Error),
    /// No `[[outputs]]`: a point accepted with nowhere to go could never leave the
    /// buffer.
    #[error(
        "no [[outputs]] configured: every accepted point must go somewhere (add an InfluxDB, or another Sluice, as an output)"
    )]
    NoOutputs,
}

/// Runs the gateway until `shutdown` is cancelled. With `config_path` (the file `config`
/// was read from), reloads are on: `POST /admin/reload`, `SIGHUP` and changes to the file
/// or a plugin's `.wasm` apply a new chain and limits without a restart.
pub async fn run(
    config: Config,
    config_path: Option<&Path>,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    if config.outputs.is_empty() {
        return Err(AppError::NoOutputs);
    }
    let metrics = Arc::new(Metrics::new());
    let dead_letters = Arc::new(DeadLetters::open(&config.dead_letter_dir())?);
    let output_names: Vec<String> = config.outputs.iter().map(|o| o.name.clone()).collect();
    // The chain's parts (engine, capability backends, worker limit) live as long as the
    // gateway: every reloaded chain is built from them without reopening anything.
    let (chain, parts) = load_chain(&config, &metrics).await?;
    let queue = buffer::open(&config.buffer, &output_names)?;
    let pipeline = Arc::new(
        Pipeline::new(
            chain,
            queue.clone(),
            Arc::clone(&dead_letters),
            Arc::clone(&metrics),
        )
        .with_stage(Stage::from_config(&config).map_err(AppError::MergeJournal)?),
    );
    let http = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?;

    // Forwarders get their own token: they stop only after ingest has drained.
    let forward_shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let outputs = Arc::new(Outputs::new(
        Shared {
            queue: queue.clone(),
            http: http.clone(),
            dead_letters: Arc::clone(&dead_letters),
            metrics: Arc::clone(&metrics),
            statement_answers: Arc::default(),
        },
        forward_shutdown,
    ));
    outputs
        .start(&config.outputs)
        .await
        .map_err(|e| AppError::Buffer(e.source))?;
    for output in &config.outputs {
        tokio::spawn(probe_output(
            http.clone(),
            output.name.clone(),
            output.url.clone(),
        ));
    }

    // The stage's timer: closed windows to the buffer; on shutdown, every open one.
    let stage_shutdown = CancellationToken::new();
    let flusher = pipeline.stage().map(|s| {
        tracing::info!(
            stage = s.name(),
            "windowed stage on: {}",
            match s {
                Stage::Aggregate(_) => "edge mode, points are aggregated into sketches",
                Stage::Merge(_) => "merging the sketch points of edges",
            }
        );
        tokio::spawn(stage::run_flusher(
            Arc::clone(&pipeline),
            stage_shutdown.clone(),
        ))
    });

    let udp_shutdown = CancellationToken::new();
    for udp in &config.udp {
        let listener = UdpListener::bind(udp, config.server.lineproto())
            .await
            .map_err(|source| AppError::Bind {
                addr: udp.bind,
                source,
            })?;
        tracing::info!(udp = %udp.bind, db = %udp.db, "listening for line protocol over UDP");
        tasks.spawn(listener.run(Arc::clone(&pipeline), udp_shutdown.clone()));
    }

    let limits = Arc::new(ArcSwap::from_pointee(Limits::from_config(&config)));
    let reload_shutdown = CancellationToken::new();
    let reloader = match config_path {
        None => None,
        Some(path) => {
            let reloader = Arc::new(Reloader::new(
                path,
                config.clone(),
                parts,
                Arc::clone(&pipeline),
                Arc::clone(&limits),
                Arc::clone(&metrics),
                Arc::clone(&outputs),
            ));
            if let Err(e) = reload::watch_signal(Arc::clone(&reloader), reload_shutdown.clone()) {
                tracing::warn!(error = %e, "cannot handle SIGHUP; reload with POST /admin/reload");
            }
            if let Err(e) =
                reload::watch_files(Arc::clone(&reloader), reload_shutdown.clone()).await
            {
                tracing::warn!(error = %e, "cannot watch the config and plugin files; reload with SIGHUP or POST /admin/reload");
            }
            Some(reloader)
        }
    };
    let state = AppState {
        pipeline: Arc::clone(&pipeline),
        limits,
        reloader,
        outputs: Arc::clone(&outputs),
        http,
    };
    let listener = TcpListener::bind(config.server.http)
        .await
        .map_err(|source| AppError::Bind {
            addr: config.server.http,
            source,
        })?;
    let addr = listener.local_addr().map_err(AppError::Serve)?;
    tracing::info!(
        http = %addr,
        buffer = ?config.buffer.kind,
        outputs = config.outputs.len(),
        auth = !config.server.tokens.is_empty(),
        "sluice listening"
    );

    let server_shutdown = shutdown.clone();
    let app = ingest::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move { server_shutdown.cancelled().await });
    let server = tokio::spawn(async move { server.await });
    shutdown.cancelled().await;
    tracing::info!("shutting down: no new requests, finishing those in flight");
    match tokio::time::timeout(config.server.shutdown_timeout, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "http server error during shutdown"),
        Ok(Err(e)) => tracing::error!(error = %e, "http server task failed"),
        Err(_) => tracing::warn!(
            "in-flight requests did not finish in time; their clients were not acknowledged"
        ),
    }
    reload_shutdown.cancel();
    udp_shutdown.cancel();
    if let Some(flusher) = flusher {
        // The UDP listeners finish their last datagrams into the stage first.
        while tasks.join_next().await.is_some() {}
        stage_shutdown.cancel();
        if let Err(e) = flusher.await {
            tracing::error!(error = %e, "the stage's flush task failed; open windows are lost");
        }
        if config.buffer.kind == BufferKind::Memory {
            drain_memory_buffer(&queue, config.server.shutdown_timeout).await;
        }
    }
    outputs.shutdown().await;
    while tasks.join_next().await.is_some() {}
    if let Err(e) = queue.close().await {
        tracing::error!(error = %e, "closing the buffer failed; unacknowledged batches will be re-sent on restart");
    }
    tracing::info!("sluice stopped");
    Ok(())
}

/// Opens the chain's parts (none without plugins) and compiles and initialises every
/// plugin, off the async threads.
async fn load_chain(
    config: &Config,
    metrics: &Arc<Metrics>,
) -> Result<(chain::Chain, Option<ChainParts>), AppError> {
    let config = config.clone();
    let metrics = Arc::clone(metrics);
    let load = move || -> Result<_, ChainError> {
        if config.plugins.is_empty() {
            return Ok((chain::Chain::empty(), None));
        }
        let parts = ChainParts::open(&config)?;
        let chain = chain::load_with(&config, &parts, metrics)?;
        Ok((chain, Some(parts)))
    };
    match tokio::task::spawn_blocking(load).await {
        Ok(loaded) => Ok(loaded?),
        // A panic while loading is a bug: let it be the panic it was.
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// Gives the forwarders a moment to deliver the windows written on shutdown: a memory
/// buffer loses whatever it still holds when the process ends. Waits until every output
/// has everything, at most `limit` (and at most 10 s).
async fn drain_memory_buffer(queue: &buffer::Queue, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit.min(Duration::from_secs(10));
    loop {
        let pending: u64 = queue
            .stats()
            .consumers
            .iter()
            .map(|c| c.pending_records)
            .sum();
        if pending == 0 {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                records = pending,
                "memory buffer not delivered before shutdown; its windows are lost"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Tells the operator at start-up when an output is unreachable: writes are still
/// accepted and buffered until it comes back.
async fn probe_output(http: reqwest::Client, name: String, url: String) {
    let ping = format!("{}/ping", url.trim_end_matches('/'));
    match http.get(&ping).timeout(Duration::from_secs(3)).send().await {
        Ok(r) if r.status().is_success() => {
            tracing::info!(output = %name, url = %url, "output reachable");
        }
        Ok(r) => {
            tracing::warn!(output = %name, url = %url, status = %r.status(), "output answered /ping with an error; writes are accepted and buffered")
        }
        Err(_) => {
            tracing::warn!(output = %name, url = %url, "output not reachable; writes are accepted and buffered until it is")
        }
    }
}
