//! [`Host`]: what a plugin may ask of the gateway — the `kv`, `blob` and `log` imports,
//! batch-shaped. In a wasm build the SDK passes the real imports; in a native test,
//! [`FakeHost`](crate::FakeHost).

use crate::error::CapabilityError;

/// Severity of a log message.
///
/// ```
/// assert!(sluice_plugin_sdk::Level::Warn > sluice_plugin_sdk::Level::Info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed diagnostics.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// Data was lost or an operator must act.
    Error,
}

/// The gateway's services, as a plugin sees them. Call each once per batch with every
/// key the batch needs — never once per point: each call crosses the wasm boundary.
///
/// ```
/// use sluice_plugin_sdk::{FakeHost, Host, Level};
/// fn remember<H: Host>(host: &mut H) -> Result<u64, sluice_plugin_sdk::CapabilityError> {
///     let ids = host.kv_assign_ids("labels", &["GET /".to_owned()])?;
///     host.log(Level::Debug, "assigned");
///     Ok(ids[0])
/// }
/// assert_eq!(remember(&mut FakeHost::new()), Ok(0));
/// ```
pub trait Host {
    /// The values of `keys`, in order; `None` where a key is absent.
    fn kv_get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError>;

    /// Stores every `(key, value)` pair, replacing existing values.
    fn kv_set_many(&mut self, entries: &[(String, Vec<u8>)]) -> Result<(), CapabilityError>;

    /// Adds `delta` to the counter at `key` (absent counts as 0; stored as decimal text)
    /// and returns the new value, atomically.
    fn kv_incr(&mut self, key: &str, delta: i64) -> Result<i64, CapabilityError>;

    /// The id of each key in `namespace`, in order, assigning the next sequential id
    /// (from 0) to keys that have none, atomically across every gateway sharing the
    /// store. A key repeated in `keys` gets the same id each time.
    fn kv_assign_ids(
        &mut self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<u64>, CapabilityError>;

    /// Stores `data` under `key` and returns its URL.
    fn blob_put(&mut self, key: &str, data: &[u8]) -> Result<String, CapabilityError>;

    /// Stores every `(key, data)` pair and returns their URLs, in order.
    fn blob_put_many(
        &mut self,
        objects: &[(String, Vec<u8>)],
    ) -> Result<Vec<String>, CapabilityError>;

    /// Writes `message` to the gateway's log under the plugin's name (the host keeps the
    /// first hundred messages of each call).
    fn log(&mut self, level: Level, message: &str);
}
