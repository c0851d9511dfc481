//! [`LazyKv`]: the embedded kv opened at its first call, not at start.
//!
//! The store holds its database file exclusively. Gateways whose plugins never
//! call `kv` (tag-strip, ts-dedup) must not take it: two of them side by side with the
//! default kv dir (beside their buffers) would refuse to start. A gateway whose plugins do
//! call `kv` opens it on the first call; if another process holds it, that call — and each
//! later one, until the lock is free — fails with [`CapabilityError::Locked`], which the
//! plugin reports as `unavailable` (HTTP clients get 503 and resend).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::{EmbeddedKv, KvStore};
use crate::caps::CapabilityError;

/// The embedded kv in the `redb` file at `path`, opened by the first call that needs it.
#[derive(Debug)]
pub struct LazyKv {
    path: PathBuf,
    open: Mutex<Option<Arc<EmbeddedKv>>>,
}

impl LazyKv {
    /// A kv to be stored in the `redb` file at `path` (its directory is created on first use).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            open: Mutex::new(None),
        }
    }

    /// The open store, opening it now if no call has yet.
    fn store(&self) -> Result<Arc<EmbeddedKv>, CapabilityError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kv) = open.as_ref() {
            return Ok(Arc::clone(kv));
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| CapabilityError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let kv = Arc::new(EmbeddedKv::open(&self.path)?);
        *open = Some(Arc::clone(&kv));
        Ok(kv)
    }
}

impl KvStore for LazyKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        self.store()?.get_many(keys)
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        self.store()?.set_many(entries)
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        self.store()?.incr(key, delta)
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        self.store()?.assign_ids(namespace, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_first_call_and_shares_the_lock_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv/kv.redb");
        let a = LazyKv::new(path.clone());
        let b = LazyKv::new(path.clone());
        assert!(!path.exists(), "nothing is opened before a call");
        assert_eq!(a.incr("n", 1).unwrap(), 1);
        let err = b.incr("n", 1).unwrap_err();
        assert!(
            matches!(&err, CapabilityError::Locked { path: p } if *p == path),
            "{err:?}"
        );
        assert!(err.to_string().contains("kv.redb is locked"), "{err}");
        drop(a);
        assert_eq!(
            b.incr("n", 1).unwrap(),
            2,
            "the lock is free once the holder is gone"
        );
    }
}
