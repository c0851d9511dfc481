//! [`Plugin`]: the one trait a plugin author implements.

use serde::de::DeserializeOwned;
use sluice_lineproto::LineWriter;

use crate::batch::Batch;
use crate::context::Context;
use crate::error::PluginError;
use crate::host::Host;

/// A transform plugin. Implement it, then export it with
/// [`export!`](crate::export) — the same code runs as a wasm component in the gateway and
/// natively in `cargo test` through [`run_native`](crate::run_native).
///
/// The gateway keeps one long-lived instance per worker, so `self` may cache what it
/// learned between batches (ids already assigned, compiled patterns); an instance that
/// traps is thrown away and a new one built from the config.
///
/// ```
/// use serde::Deserialize;
/// use sluice_plugin_sdk::{Batch, Context, FakeHost, Host, LineWriter, Plugin, PluginError};
///
/// /// Adds a `db` tag naming the batch's database.
/// struct TagDb { key: String }
///
/// #[derive(Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Config { key: Option<String> }
///
/// impl Plugin for TagDb {
///     type Config = Config;
///
///     fn new(config: Config) -> Result<Self, String> {
///         Ok(Self { key: config.key.unwrap_or_else(|| "db".into()) })
///     }
///
///     fn process<H: Host>(
///         &mut self,
///         ctx: &Context,
///         batch: Batch<'_>,
///         out: &mut LineWriter,
///         _host: &mut H,
///     ) -> Result<(), PluginError> {
///         for point in batch.points() {
///             let point = point?;
///             let mut p = out.point_raw(point.measurement());
///             p.tags_raw(point.tags_raw()).tag(&self.key, &ctx.db);
///             p.fields_raw(point.fields_raw());
///             p.finish(point.timestamp())?;
///         }
///         Ok(())
///     }
/// }
///
/// sluice_plugin_sdk::export!(TagDb);
///
/// let mut plugin: TagDb = sluice_plugin_sdk::load("{}")?;
/// let ctx = Context { db: "flood".into(), ..Context::default() };
/// let out = sluice_plugin_sdk::run_native(&mut plugin, &ctx, b"cpu v=1 1", &mut FakeHost::new())?;
/// assert_eq!(out, b"cpu,db=flood v=1 1\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Plugin: Sized + 'static {
    /// The configuration, deserialised from the JSON text of the plugin's `config` table
    /// (use `#[serde(deny_unknown_fields)]` so a typo is an error, not a silent default).
    type Config: DeserializeOwned;

    /// Builds the plugin from its configuration. An `Err` stops the gateway from
    /// loading the chain and is shown to the operator as is, so say what is wrong.
    fn new(config: Self::Config) -> Result<Self, String>;

    /// Transforms one batch: read it through `batch`, write the points to keep (changed
    /// or not, and any new ones) to `out`. Writing nothing drops every point.
    fn process<H: Host>(
        &mut self,
        ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError>;
}
