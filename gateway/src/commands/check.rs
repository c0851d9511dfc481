//! `sluice check -c FILE`: validate the configuration, then compile and initialise every
//! plugin exactly as `sluice run` would, so a bad chain fails here, not at start-up. The
//! plugins get a scratch kv and blob store: a running gateway holds the real ones.

use anyhow::Context as _;
use sluice::config::{BufferConfig, BufferKind, Config};
use sluice::telemetry::Metrics;
use sluice_host::caps::Capabilities;
use std::path::Path;
use std::sync::Arc;

/// Checks `path`; the error names what is wrong.
pub(crate) fn run(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    // `sluice run` refuses this too.
    if config.outputs.is_empty() {
        return Err(sluice::app::AppError::NoOutputs.into());
    }
    let plugins = if config.plugins.is_empty() {
        "no plugins".to_owned()
    } else {
        let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
        let caps = Capabilities::ephemeral(scratch.path())?;
        let parts = sluice::chain::ChainParts::with_caps(&config, caps).with_context(|| {
            format!(
                "the compiled-plugin cache is {} (beside [buffer] dir)",
                config.plugin_cache_dir().display()
            )
        })?;
        let chain = sluice::chain::load_with(&config, &parts, Arc::new(Metrics::new()))?;
        format!("plugins {}", chain.names().join(" → "))
    };
    println!(
        "{}: ok ({plugins}; {} output(s), {} udp listener(s), buffer {}{})",
        path.display(),
        config.outputs.len(),
        config.udp.len(),
        buffer(&config.buffer),
        stage(&config)
    );
    Ok(())
}

/// The windowed stage, if any: an edge's window, a relay's merge journal.
fn stage(config: &Config) -> String {
    if let Some(edge) = &config.edge {
        format!(
            "; edge mode, {} windows",
            humantime::format_duration(edge.window)
        )
    } else if config.merge.is_some() {
        format!(
            "; merging sketches, journal in {}",
            config.merge_dir().display()
        )
    } else {
        String::new()
    }
}

/// Where the buffer is: a directory, or a Redis server (password hidden) and stream.
fn buffer(buffer: &BufferConfig) -> String {
    match buffer.kind {
        BufferKind::Redis => {
            let url = buffer.url.as_deref().unwrap_or("redis://127.0.0.1:6379");
            let url = reqwest::Url::parse(url)
                .map(|u| sluice::forward::redacted_url(&u).to_string())
                .unwrap_or_else(|_| url.to_owned());
            let stream = buffer.stream.as_deref().unwrap_or("sluice");
            format!("Redis {url}, stream {stream:?}")
        }
        BufferKind::Memory => "in memory".to_owned(),
        BufferKind::Disk => format!("on disk at {}", buffer.dir().display()),
    }
}
