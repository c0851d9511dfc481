//! Running a plugin natively, as the gateway would but without wasm: [`load`] builds it
//! from JSON config text (the same path `init` takes), [`run_native`] runs a batch
//! through it against any [`Host`] — usually a [`FakeHost`](crate::FakeHost).

use std::fmt;

use sluice_lineproto::{LineWriter, Precision, canonicalize, points};

use crate::batch::Batch;
use crate::context::Context;
use crate::error::PluginError;
use crate::host::Host;
use crate::plugin::Plugin;

/// Builds a plugin from its configuration as JSON text, exactly as the component's
/// `init` does: a JSON or schema error, or the plugin's own refusal, is the `Err` text
/// the gateway would show.
///
/// ```
/// # use serde::Deserialize;
/// # use sluice_plugin_sdk::{Batch, Context, Host, LineWriter, Plugin, PluginError};
/// # struct Nop;
/// # #[derive(Deserialize)] #[serde(deny_unknown_fields)] struct Config {}
/// # impl Plugin for Nop {
/// #     type Config = Config;
/// #     fn new(_: Config) -> Result<Self, String> { Ok(Nop) }
/// #     fn process<H: Host>(&mut self, _: &Context, _: Batch<'_>, _: &mut LineWriter, _: &mut H)
/// #         -> Result<(), PluginError> { Ok(()) }
/// # }
/// let err = sluice_plugin_sdk::load::<Nop>(r#"{"tagz": []}"#).err().unwrap();
/// assert!(err.starts_with("invalid config: unknown field `tagz`"), "{err}");
/// ```
pub fn load<P: Plugin>(config_json: &str) -> Result<P, String> {
    let config = serde_json::from_str::<P::Config>(config_json)
        .map_err(|e| format!("invalid config: {e}"))?;
    P::new(config)
}

/// Why [`run_native`] failed.
///
/// ```
/// # use sluice_plugin_sdk::{Batch, Context, FakeHost, Host, LineWriter, Plugin, PluginError, RunError};
/// /// Writes its output without timestamps, which the gateway would refuse.
/// struct Sloppy;
/// # #[derive(serde::Deserialize)] struct Config {}
/// impl Plugin for Sloppy {
///     type Config = Config;
///     fn new(_: Config) -> Result<Self, String> { Ok(Sloppy) }
///     fn process<H: Host>(&mut self, _: &Context, _: Batch<'_>, out: &mut LineWriter, _: &mut H)
///         -> Result<(), PluginError> {
///         *out = LineWriter::from_vec(b"m v=1\n".to_vec());
///         Ok(())
///     }
/// }
/// let err = sluice_plugin_sdk::run_native(&mut Sloppy, &Context::default(), b"m v=1 1", &mut FakeHost::new());
/// assert!(matches!(err, Err(RunError::InvalidOutput(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The test input has a line that is not line protocol (the gateway would have
    /// refused it before any plugin ran).
    InvalidInput(String),
    /// The plugin returned an error.
    Plugin(PluginError),
    /// The plugin's output is not canonical line protocol (the gateway would
    /// dead-letter the batch).
    InvalidOutput(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(m) => write!(f, "invalid test input: {m}"),
            Self::Plugin(e) => write!(f, "plugin error: {e}"),
            Self::InvalidOutput(m) => write!(f, "invalid plugin output: {m}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<PluginError> for RunError {
    fn from(e: PluginError) -> Self {
        Self::Plugin(e)
    }
}

/// Runs `input` through `plugin` the way the gateway does, natively: the input is
/// canonicalised first (so tests may write `cpu v=1 1` without a line feed; a line
/// without a timestamp gets 0), the plugin writes its output, and the output is checked
/// to be canonical line protocol, as the host checks it.
///
/// ```
/// # use serde::Deserialize;
/// # use sluice_plugin_sdk::{Batch, Context, FakeHost, Host, LineWriter, Plugin, PluginError};
/// /// Passes every point through.
/// struct Pass;
/// # #[derive(Deserialize)] struct Config {}
/// impl Plugin for Pass {
///     type Config = Config;
///     fn new(_: Config) -> Result<Self, String> { Ok(Pass) }
///     fn process<H: Host>(&mut self, _: &Context, batch: Batch<'_>, out: &mut LineWriter, _: &mut H)
///         -> Result<(), PluginError> {
///         for p in batch.points() { out.push_point(&p?); }
///         Ok(())
///     }
/// }
/// let mut pass = Pass;
/// let out = sluice_plugin_sdk::run_native(
///     &mut pass, &Context::default(), b"cpu  v=1 7\r\n", &mut FakeHost::new())?;
/// assert_eq!(out, b"cpu v=1 7\n");
/// # Ok::<(), sluice_plugin_sdk::RunError>(())
/// ```
pub fn run_native<P: Plugin, H: Host>(
    plugin: &mut P,
    ctx: &Context,
    input: &[u8],
    host: &mut H,
) -> Result<Vec<u8>, RunError> {
    let mut batch = Vec::with_capacity(input.len() + 1);
    let summary = canonicalize(input, Precision::Nanosecond, 0, &mut batch);
    if let Some(error) = summary.first_error {
        return Err(RunError::InvalidInput(error.to_string()));
    }
    let mut out = LineWriter::with_capacity(batch.len());
    plugin.process(ctx, Batch::new(&batch), &mut out, host)?;
    let out = out.into_inner();
    check_output(&out).map_err(RunError::InvalidOutput)?;
    Ok(out)
}

/// Checks that `output` is canonical line protocol, as the host does.
fn check_output(output: &[u8]) -> Result<(), String> {
    match points(output).find_map(Result::err) {
        None if output.is_empty() || output.ends_with(b"\n") => Ok(()),
        None => Err("the last line does not end with a line feed".into()),
        Some(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_must_be_canonical() {
        assert!(check_output(b"").is_ok());
        assert!(check_output(b"m v=1 1\nm v=2 2\n").is_ok());
        assert!(check_output(b"m v=1 1").is_err());
        let e = check_output(b"m v=1 1\nm  v=2 2\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(check_output(b"m v=1\n").is_err());
    }
}
