//! The `kv` capability: the [`KvStore`] backend trait, [`EmbeddedKv`] (a `redb`
//! database in one file, or in memory), [`RedisKv`] (shared by every gateway on the same
//! Redis), and [`NamespacedKv`], the per-plugin view that keeps each plugin's keys apart.
//!
//! Counters (`incr`) are stored as decimal text, as Redis does, so `get-many` reads them
//! and a Redis backend can share the same data layout. Sequential ids live in their own
//! per-namespace maps, apart from plain keys.

mod embedded;
mod journal;
mod lazy;
mod migrate;
mod namespace;
mod redb_error;
mod redis_kv;

pub use embedded::EmbeddedKv;
pub use lazy::LazyKv;
pub use namespace::NamespacedKv;
pub use redis_kv::{RedisKv, RedisKvOptions};

use super::{CapabilityError, quote_key};

/// Longest key accepted (bytes).
const MAX_KEY: usize = 4096;

/// A key-value backend for the `kv` import. Calls are batch-shaped (one call per batch,
/// many keys) and synchronous: plugins run on blocking threads.
pub trait KvStore: Send + Sync + 'static {
    /// The values of `keys`, in order; `None` where absent.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError>;

    /// Stores every pair, replacing existing values.
    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError>;

    /// Adds `delta` to the decimal counter at `key` (absent = 0) and returns the new value.
    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError>;

    /// The id of each key in `namespace`, assigning the next sequential id (from 0) to
    /// keys that have none, atomically.
    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError>;
}

/// Refuses keys no backend should store: empty, or longer than [`MAX_KEY`].
fn check_key(key: &str) -> Result<(), CapabilityError> {
    if key.is_empty() {
        return Err(CapabilityError::InvalidKey {
            key: String::new(),
            reason: "empty",
        });
    }
    if key.len() > MAX_KEY {
        return Err(CapabilityError::InvalidKey {
            key: quote_key(key),
            reason: "longer than 4096 bytes",
        });
    }
    Ok(())
}

/// A decimal `i64`, as `incr` stores it.
fn parse_counter(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests;
