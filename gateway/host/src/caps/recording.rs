//! Observing what a plugin writes: [`record`] wraps a [`Capabilities`] so every `kv`
//! and `blob` write goes through to the real backend and is also noted in [`Effects`]
//! (what `sluice plugin test` prints).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::blob::BlobStore;
use super::kv::KvStore;
use super::{Capabilities, CapabilityError};

/// One write a plugin made through a capability.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// `kv.set-many` stored `value` at `key`.
    KvSet {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
    },
    /// `kv.incr` moved the counter at `key` to `value`.
    KvIncr {
        /// The key.
        key: String,
        /// The added amount.
        delta: i64,
        /// The new value.
        value: i64,
    },
    /// `kv.assign-ids` returned `ids` for `keys` in `namespace`.
    KvAssignIds {
        /// The namespace.
        namespace: String,
        /// The keys asked for.
        keys: Vec<String>,
        /// Their ids, in order.
        ids: Vec<u64>,
    },
    /// `blob.put`/`put-many` stored `bytes` bytes under `key` at `url`.
    BlobPut {
        /// The key.
        key: String,
        /// The object's size.
        bytes: usize,
        /// Where it is.
        url: String,
    },
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KvSet { key, value } => {
                write!(f, "kv set {key:?} = {:?}", String::from_utf8_lossy(value))
            }
            Self::KvIncr { key, delta, value } => write!(f, "kv incr {key:?} {delta:+} -> {value}"),
            Self::KvAssignIds {
                namespace,
                keys,
                ids,
            } => {
                write!(f, "kv assign-ids {namespace:?}:")?;
                for (k, id) in keys.iter().zip(ids) {
                    write!(f, " {k:?}={id}")?;
                }
                Ok(())
            }
            Self::BlobPut { key, bytes, url } => {
                write!(f, "blob put {key:?} ({bytes} bytes) -> {url}")
            }
        }
    }
}

/// The effects recorded so far; shared with the recording capabilities.
///
/// ```
/// use sluice_host::caps::{Capabilities, recording::{record, Effect}};
/// let dir = tempfile::tempdir().unwrap();
/// let (caps, effects) = record(Capabilities::ephemeral(dir.path()).unwrap());
/// caps.kv.incr("n", 2).unwrap();
/// assert_eq!(effects.take(), [Effect::KvIncr { key: "n".into(), delta: 2, value: 2 }]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Effects {
    log: Arc<Mutex<Vec<Effect>>>,
}

impl Effects {
    /// Removes and returns what was recorded, oldest first.
    ///
    /// ```
    /// let effects = sluice_host::caps::recording::Effects::default();
    /// assert!(effects.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<Effect> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn push(&self, effects: impl IntoIterator<Item = Effect>) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(effects);
    }
}

/// Wraps `caps` so every write is also recorded in the returned [`Effects`].
///
/// ```
/// use sluice_host::caps::{Capabilities, recording::record};
/// let dir = tempfile::tempdir().unwrap();
/// let (caps, effects) = record(Capabilities::ephemeral(dir.path()).unwrap());
/// caps.blob.put_many(vec![("k".into(), b"abc".to_vec())]).unwrap();
/// assert!(effects.take()[0].to_string().starts_with("blob put \"k\" (3 bytes) -> file://"));
/// ```
pub fn record(caps: Capabilities) -> (Capabilities, Effects) {
    let effects = Effects::default();
    let recorded = Capabilities {
        kv: Arc::new(RecordingKv {
            inner: caps.kv,
            effects: effects.clone(),
        }),
        blob: Arc::new(RecordingBlob {
            inner: caps.blob,
            effects: effects.clone(),
        }),
    };
    (recorded, effects)
}

struct RecordingKv {
    inner: Arc<dyn KvStore>,
    effects: Effects,
}

impl KvStore for RecordingKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        self.inner.get_many(keys)
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        let noted: Vec<_> = entries
            .iter()
            .map(|(key, value)| Effect::KvSet {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        self.inner.set_many(entries)?;
        self.effects.push(noted);
        Ok(())
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        let value = self.inner.incr(key, delta)?;
        self.effects.push([Effect::KvIncr {
            key: key.to_owned(),
            delta,
            value,
        }]);
        Ok(value)
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        let ids = self.inner.assign_ids(namespace, keys)?;
        self.effects.push([Effect::KvAssignIds {
            namespace: namespace.to_owned(),
            keys: keys.to_vec(),
            ids: ids.clone(),
        }]);
        Ok(ids)
    }
}

struct RecordingBlob {
    inner: Arc<dyn BlobStore>,
    effects: Effects,
}

impl BlobStore for RecordingBlob {
    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<Vec<String>, CapabilityError> {
        let sizes: Vec<_> = objects.iter().map(|(k, d)| (k.clone(), d.len())).collect();
        let urls = self.inner.put_many(objects)?;
        self.effects
            .push(
                sizes
                    .into_iter()
                    .zip(&urls)
                    .map(|((key, bytes), url)| Effect::BlobPut {
                        key,
                        bytes,
                        url: url.clone(),
                    }),
            );
        Ok(urls)
    }
}
