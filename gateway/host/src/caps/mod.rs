//! Host capabilities: what a plugin may call besides its own code. Each capability is a
//! module with a backend trait (spin's shape): [`kv`] (embedded here, Redis later),
//! [`blob`] (filesystem here, S3 later) and [`log`]. [`Capabilities`] is the set handed
//! to [`Plugin::load`](crate::Plugin::load); [`recording`] wraps it so `sluice plugin
//! test` can show what a plugin wrote.

pub mod blob;
pub mod kv;
pub(crate) mod log;
pub mod recording;

use std::path::PathBuf;
use std::sync::Arc;

use blob::{BlobStore, FsBlobStore};
use kv::{EmbeddedKv, KvStore, NamespacedKv};

/// Why a capability call failed. The plugin receives the message text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CapabilityError {
    /// A key the backend cannot store.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key (truncated).
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `incr` on a value that is not a decimal integer.
    #[error("value at key {key:?} is not an integer: {value:?}")]
    NotAnInteger {
        /// The key (truncated).
        key: String,
        /// The start of the value, lossily UTF-8.
        value: String,
    },
    /// `incr` would overflow a signed 64-bit counter.
    #[error("counter at key {key:?} would overflow")]
    Overflow {
        /// The key (truncated).
        key: String,
    },
    /// The backend's storage failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A persistence file is not one this version wrote.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The backend's settings are unusable (a malformed URL, ...).
    #[error("{what}: {reason}")]
    Config {
        /// `kv` or `blob`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A remote backend (Redis, S3) did not answer in time or refused the call; the
    /// same call may succeed later, so plugins report it as `unavailable`.
    #[error("{backend} at {at} unavailable: {reason}")]
    Unavailable {
        /// `redis` or `s3`.
        backend: &'static str,
        /// Where it was reached (`host:port`, a bucket), never with credentials.
        at: String,
        /// What went wrong.
        reason: String,
    },
    /// A remote backend answered the call with an error (a counter over text, ...):
    /// trying again will fail the same way.
    #[error("{backend} refused the call: {reason}")]
    Refused {
        /// `redis` or `s3`.
        backend: &'static str,
        /// Its answer.
        reason: String,
    },
    /// Another process (a running gateway) has the store open.
    #[error("{path} is locked: another process (a running gateway?) uses this store")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
}

/// Longest key quoted in an error.
const MAX_QUOTED_KEY: usize = 100;

/// `key` cut for an error message.
pub(crate) fn quote_key(key: &str) -> String {
    if key.len() <= MAX_QUOTED_KEY {
        return key.to_owned();
    }
    let mut end = MAX_QUOTED_KEY;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &key[..end])
}

/// The backends a plugin's `kv` and `blob` imports use. Cloning is cheap (shared
/// backends), and every plugin loaded with the same `Capabilities` sees the same data.
#[derive(Clone)]
pub struct Capabilities {
    /// Backs the `kv` import.
    pub kv: Arc<dyn KvStore>,
    /// Backs the `blob` import.
    pub blob: Arc<dyn BlobStore>,
}

impl Capabilities {
    /// Capabilities over the given backends.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sluice_host::caps::{Capabilities, blob::FsBlobStore, kv::EmbeddedKv};
    /// let dir = tempfile::tempdir().unwrap();
    /// let caps = Capabilities::new(
    ///     Arc::new(EmbeddedKv::in_memory().unwrap()),
    ///     Arc::new(FsBlobStore::open(dir.path()).unwrap()),
    /// );
    /// # let _ = caps;
    /// ```
    pub fn new(kv: Arc<dyn KvStore>, blob: Arc<dyn BlobStore>) -> Self {
        Self { kv, blob }
    }

    /// The embedded backends: a kv persisted in `dir/kv.redb` and blobs stored as
    /// files under `dir/blobs/`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let caps = sluice_host::caps::Capabilities::embedded(dir.path()).unwrap();
    /// assert!(dir.path().join("kv.redb").exists());
    /// # drop(caps);
    /// ```
    pub fn embedded(dir: &std::path::Path) -> Result<Self, CapabilityError> {
        std::fs::create_dir_all(dir).map_err(|source| CapabilityError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Self {
            kv: Arc::new(EmbeddedKv::open(&dir.join("kv.redb"))?),
            blob: Arc::new(FsBlobStore::open(&dir.join("blobs"))?),
        })
    }

    /// These capabilities with the kv seen through `namespace`: every key and id
    /// namespace the plugin uses is stored as `namespace:…` (see [`NamespacedKv`]).
    /// The chain gives each plugin its name, or its entry's shared `kv_namespace`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let caps = sluice_host::caps::Capabilities::ephemeral(dir.path()).unwrap();
    /// let a = caps.in_namespace("a");
    /// a.kv.incr("n", 1).unwrap();
    /// assert_eq!(caps.in_namespace("b").kv.incr("n", 1).unwrap(), 1);
    /// assert_eq!(caps.kv.get_many(&["a:n".to_owned()]).unwrap(), [Some(b"1".to_vec())]);
    /// ```
    pub fn in_namespace(&self, namespace: &str) -> Self {
        Self {
            kv: Arc::new(NamespacedKv::new(Arc::clone(&self.kv), namespace)),
            blob: Arc::clone(&self.blob),
        }
    }

    /// Throwaway capabilities for tests and `sluice plugin test`: an in-memory kv and
    /// blobs under `blob_dir`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let caps = sluice_host::caps::Capabilities::ephemeral(dir.path()).unwrap();
    /// # drop(caps);
    /// ```
    pub fn ephemeral(blob_dir: &std::path::Path) -> Result<Self, CapabilityError> {
        Ok(Self {
            kv: Arc::new(EmbeddedKv::in_memory()?),
            blob: Arc::new(FsBlobStore::open(blob_dir)?),
        })
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capabilities").finish_non_exhaustive()
    }
}
