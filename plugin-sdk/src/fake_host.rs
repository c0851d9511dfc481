//! [`FakeHost`]: an in-memory [`Host`] for native unit tests — kv, ids and blobs in maps,
//! log messages kept for assertions, and a switch to make every call fail.

use std::collections::{BTreeMap, HashMap};

use crate::error::CapabilityError;
use crate::host::{Host, Level};

/// A [`Host`] that keeps everything in memory, behaving as the gateway's embedded
/// backends do (counters as decimal text, ids sequential per namespace, from 0).
///
/// ```
/// use sluice_plugin_sdk::{FakeHost, Host, Level};
/// let mut host = FakeHost::new();
/// host.kv_set_many(&[("k".to_owned(), b"v".to_vec())]).unwrap();
/// let url = host.blob_put("trace/1", b"{}").unwrap();
/// host.log(Level::Info, "hello");
/// assert_eq!(host.kv().get("k").map(Vec::as_slice), Some(&b"v"[..]));
/// assert_eq!(host.blob(&url), Some(&b"{}"[..]));
/// assert_eq!(host.logs(), [(Level::Info, "hello".to_owned())]);
/// assert_eq!(host.calls(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct FakeHost {
    kv: BTreeMap<String, Vec<u8>>,
    ids: HashMap<String, HashMap<String, u64>>,
    blobs: BTreeMap<String, Vec<u8>>,
    logs: Vec<(Level, String)>,
    /// `kv` and `blob` calls made (to check a plugin is batch-shaped).
    calls: usize,
    /// While set, every `kv` and `blob` call fails with this message.
    failure: Option<String>,
}

/// The URL scheme of fake blobs.
const BLOB_SCHEME: &str = "memory://";

impl FakeHost {
    /// An empty fake host.
    ///
    /// ```
    /// assert!(sluice_plugin_sdk::FakeHost::new().kv().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following `kv` and `blob` call fail with `message` (`None`: succeed
    /// again), to test how a plugin handles an unavailable backend.
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// host.fail_with(Some("redis down"));
    /// assert_eq!(host.kv_incr("n", 1).unwrap_err().0, "redis down");
    /// ```
    pub fn fail_with(&mut self, message: Option<&str>) {
        self.failure = message.map(str::to_owned);
    }

    /// The plain key-value entries (counters included, as decimal text).
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// host.kv_incr("n", 3).unwrap();
    /// assert_eq!(host.kv()["n"], b"3");
    /// ```
    pub fn kv(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.kv
    }

    /// The ids assigned in `namespace`, by key.
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// host.kv_assign_ids("ns", &["a".to_owned()]).unwrap();
    /// assert_eq!(host.ids("ns").unwrap()["a"], 0);
    /// ```
    pub fn ids(&self, namespace: &str) -> Option<&HashMap<String, u64>> {
        self.ids.get(namespace)
    }

    /// The stored blobs by key.
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// host.blob_put("k", b"x").unwrap();
    /// assert_eq!(host.blobs()["k"], b"x");
    /// ```
    pub fn blobs(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.blobs
    }

    /// The blob a URL returned by `blob_put` points to.
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// let url = host.blob_put("k", b"x").unwrap();
    /// assert_eq!(url, "memory://k");
    /// assert_eq!(host.blob(&url), Some(&b"x"[..]));
    /// ```
    pub fn blob(&self, url: &str) -> Option<&[u8]> {
        let key = url.strip_prefix(BLOB_SCHEME)?;
        self.blobs.get(key).map(Vec::as_slice)
    }

    /// The messages logged, oldest first.
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host, Level};
    /// let mut host = FakeHost::new();
    /// host.log(Level::Warn, "odd");
    /// assert_eq!(host.logs()[0].1, "odd");
    /// ```
    pub fn logs(&self) -> &[(Level, String)] {
        &self.logs
    }

    /// How many `kv` and `blob` calls were made (failed ones included).
    ///
    /// ```
    /// use sluice_plugin_sdk::{FakeHost, Host};
    /// let mut host = FakeHost::new();
    /// host.kv_get_many(&["a".to_owned(), "b".to_owned()]).unwrap();
    /// assert_eq!(host.calls(), 1);
    /// ```
    pub fn calls(&self) -> usize {
        self.calls
    }

    /// Counts a call and fails it if a failure is set.
    fn call(&mut self) -> Result<(), CapabilityError> {
        self.calls += 1;
        match &self.failure {
            Some(message) => Err(CapabilityError(message.clone())),
            None => Ok(()),
        }
    }
}

fn check_key(key: &str) -> Result<(), CapabilityError> {
    if key.is_empty() {
        Err(CapabilityError::new("invalid key \"\": empty"))
    } else {
        Ok(())
    }
}

impl Host for FakeHost {
    fn kv_get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        self.call()?;
        Ok(keys.iter().map(|k| self.kv.get(k).cloned()).collect())
    }

    fn kv_set_many(&mut self, entries: &[(String, Vec<u8>)]) -> Result<(), CapabilityError> {
        self.call()?;
        for (key, _) in entries {
            check_key(key)?;
        }
        for (key, value) in entries {
            self.kv.insert(key.clone(), value.clone());
        }
        Ok(())
    }

    fn kv_incr(&mut self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        self.call()?;
        check_key(key)?;
        let current = match self.kv.get(key) {
            None => 0,
            Some(v) => std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    CapabilityError(format!(
                        "value at key {key:?} is not an integer: {:?}",
                        String::from_utf8_lossy(v)
                    ))
                })?,
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| CapabilityError(format!("counter at key {key:?} would overflow")))?;
        self.kv
            .insert(key.to_owned(), next.to_string().into_bytes());
        Ok(next)
    }

    fn kv_assign_ids(
        &mut self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Vec<u64>, CapabilityError> {
        self.call()?;
        for key in keys {
            check_key(key)?;
        }
        let ids = self.ids.entry(namespace.to_owned()).or_default();
        Ok(keys
            .iter()
            .map(|key| {
                let next = ids.len() as u64;
                *ids.entry(key.clone()).or_insert(next)
            })
            .collect())
    }

    fn blob_put(&mut self, key: &str, data: &[u8]) -> Result<String, CapabilityError> {
        self.call()?;
        check_key(key)?;
        self.blobs.insert(key.to_owned(), data.to_vec());
        Ok(format!("{BLOB_SCHEME}{key}"))
    }

    fn blob_put_many(
        &mut self,
        objects: &[(String, Vec<u8>)],
    ) -> Result<Vec<String>, CapabilityError> {
        self.call()?;
        for (key, _) in objects {
            check_key(key)?;
        }
        Ok(objects
            .iter()
            .map(|(key, data)| {
                self.blobs.insert(key.clone(), data.clone());
                format!("{BLOB_SCHEME}{key}")
            })
            .collect())
    }

    fn log(&mut self, level: Level, message: &str) {
        self.logs.push((level, message.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn ids_match_the_embedded_backend() {
        let mut host = FakeHost::new();
        assert_eq!(
            host.kv_assign_ids("a", &keys(&["x", "y", "x"])).unwrap(),
            [0, 1, 0]
        );
        assert_eq!(host.kv_assign_ids("a", &keys(&["z", "x"])).unwrap(), [2, 0]);
        assert_eq!(host.kv_assign_ids("b", &keys(&["z"])).unwrap(), [0]);
    }

    #[test]
    fn counters_are_decimal_text_and_checked() {
        let mut host = FakeHost::new();
        host.kv_set_many(&[("s".to_owned(), b"x".to_vec())])
            .unwrap();
        assert!(
            host.kv_incr("s", 1)
                .unwrap_err()
                .0
                .contains("not an integer")
        );
        assert_eq!(host.kv_incr("n", -2).unwrap(), -2);
        assert_eq!(
            host.kv_get_many(&keys(&["n"])).unwrap(),
            [Some(b"-2".to_vec())]
        );
    }

    #[test]
    fn a_set_failure_fails_every_call_until_cleared() {
        let mut host = FakeHost::new();
        host.fail_with(Some("down"));
        assert!(host.blob_put_many(&[("k".to_owned(), vec![])]).is_err());
        assert!(host.kv_get_many(&[]).is_err());
        host.fail_with(None);
        assert!(host.kv_get_many(&[]).is_ok());
        assert_eq!(host.calls(), 3);
    }
}
