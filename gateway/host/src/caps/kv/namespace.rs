//! [`NamespacedKv`]: one plugin's view of a shared kv, its keys and id namespaces
//! prefixed with the plugin's kv namespace, so two plugins never see each other's data
//! unless their `[[plugins]]` entries share a `kv_namespace`.

use std::sync::Arc;

use super::KvStore;
use crate::caps::CapabilityError;

/// Separates the namespace from the plugin's key. Namespaces are plugin names (letters,
/// digits, `-`, `_`), which never contain it, so `a` + `b:c` and `a:b` + `c` never meet.
const SEPARATOR: char = ':';

/// A kv whose every key `k` is stored as `namespace:k`, and whose every `assign-ids`
/// namespace `n` is `namespace:n`, in the shared backend.
///
/// ```
/// use std::sync::Arc;
/// use sluice_host::caps::kv::{EmbeddedKv, KvStore, NamespacedKv};
/// let shared: Arc<dyn KvStore> = Arc::new(EmbeddedKv::in_memory().unwrap());
/// let a = NamespacedKv::new(Arc::clone(&shared), "label-id");
/// a.set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
/// assert_eq!(shared.get_many(&["label-id:k".to_owned()]).unwrap(), [Some(b"v".to_vec())]);
/// ```
pub struct NamespacedKv {
    inner: Arc<dyn KvStore>,
    /// `namespace:`, ready to prepend.
    prefix: String,
}

impl NamespacedKv {
    /// `inner` seen through `namespace` (a plugin name or a shared `kv_namespace`).
    pub fn new(inner: Arc<dyn KvStore>, namespace: &str) -> Self {
        Self {
            inner,
            prefix: format!("{namespace}{SEPARATOR}"),
        }
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }
}

impl std::fmt::Debug for NamespacedKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespacedKv")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl KvStore for NamespacedKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.inner.get_many(&keys)
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        let entries = entries
            .into_iter()
            .map(|(k, v)| (self.key(&k), v))
            .collect();
        self.inner.set_many(entries)
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        self.inner.incr(&self.key(key), delta)
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        // Only the id namespace is prefixed: the keys live inside it.
        self.inner.assign_ids(&self.key(namespace), keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::kv::EmbeddedKv;

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn plugins_do_not_see_each_others_keys_or_ids() {
        let shared: Arc<dyn KvStore> = Arc::new(EmbeddedKv::in_memory().unwrap());
        let a = NamespacedKv::new(Arc::clone(&shared), "a");
        let b = NamespacedKv::new(Arc::clone(&shared), "b");
        a.set_many(vec![("k".into(), b"from a".to_vec())]).unwrap();
        assert_eq!(b.get_many(&keys(&["k"])).unwrap(), [None]);
        assert_eq!(a.incr("n", 5).unwrap(), 5);
        assert_eq!(b.incr("n", 1).unwrap(), 1);
        assert_eq!(a.assign_ids("flood", &keys(&["x", "y"])).unwrap(), [0, 1]);
        assert_eq!(b.assign_ids("flood", &keys(&["y"])).unwrap(), [0]);
        assert_eq!(
            shared.get_many(&keys(&["a:k", "a:n", "b:n"])).unwrap(),
            [
                Some(b"from a".to_vec()),
                Some(b"5".to_vec()),
                Some(b"1".to_vec())
            ]
        );
        assert_eq!(shared.assign_ids("a:flood", &keys(&["y"])).unwrap(), [1]);
    }

    #[test]
    fn a_shared_namespace_shares_keys_and_ids() {
        let shared: Arc<dyn KvStore> = Arc::new(EmbeddedKv::in_memory().unwrap());
        let one = NamespacedKv::new(Arc::clone(&shared), "ids");
        let two = NamespacedKv::new(Arc::clone(&shared), "ids");
        assert_eq!(one.assign_ids("f", &keys(&["x", "y"])).unwrap(), [0, 1]);
        assert_eq!(two.assign_ids("f", &keys(&["y", "z"])).unwrap(), [1, 2]);
        one.set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
        assert_eq!(two.get_many(&keys(&["k"])).unwrap(), [Some(b"v".to_vec())]);
    }
}
