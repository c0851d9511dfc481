//! # identity
//!
//! A Sluice test plugin that returns every batch unchanged, in one copy. Running it
//! through the host measures what the wasm boundary alone costs per point (the batch
//! copied in, the output copied out, the output checked).
//!
//! # Layout
//!
//! One file: [`Identity`] and its [`Plugin`] implementation.

use serde::Deserialize;
use sluice_plugin_sdk::{Batch, Context, Host, LineWriter, Plugin, PluginError};

/// Takes no configuration (an empty JSON object).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

/// Passes batches through.
#[derive(Debug)]
pub struct Identity;

impl Plugin for Identity {
    type Config = Config;

    fn new(_config: Config) -> Result<Self, String> {
        Ok(Self)
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        _host: &mut H,
    ) -> Result<(), PluginError> {
        *out = LineWriter::from_vec(batch.as_bytes().to_vec());
        Ok(())
    }
}

sluice_plugin_sdk::export!(Identity);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{FakeHost, load, run_native};

    #[test]
    fn returns_the_batch() {
        let mut plugin: Identity = load("{}").unwrap();
        let input = b"a,t=1 v=1 1\nb v=\"x\" 2\n";
        let out = run_native(
            &mut plugin,
            &Context::default(),
            input,
            &mut FakeHost::new(),
        )
        .unwrap();
        assert_eq!(out, input);
    }
}
