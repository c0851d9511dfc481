//! `sluice check -c FILE`: validate the configuration, then compile and initialise every
//! plugin exactly as `sluice run` would, so a bad chain fails here, not at start-up. The
//! plugins get a scratch kv and blob store: a running gateway holds the real ones.

use anyhow::Context as _;
use sluice::config::Config;
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
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let caps = Capabilities::ephemeral(scratch.path())?;
    let parts = sluice::chain::ChainParts::with_caps(&config, caps)?;
    let chain = sluice::chain::load_with(&config, &parts, Arc::new(Metrics::new()))?;
    let plugins = if chain.names().is_empty() {
        "no plugins".to_owned()
    } else {
        format!("plugins {}", chain.names().join(" → "))
    };
    println!(
        "{}: ok ({plugins}; {} output(s), {} udp listener(s), buffer {:?} at {})",
        path.display(),
        config.outputs.len(),
        config.udp.len(),
        config.buffer.kind,
        config.buffer.dir().display()
    );
    Ok(())
}
