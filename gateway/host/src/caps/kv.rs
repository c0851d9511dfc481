//! The `kv` capability: the [`KvStore`] backend trait, [`EmbeddedKv`] (an in-memory
//! store that can persist every write to an append-only journal, replayed on open), and
//! [`RedisKv`] (shared by every gateway on the same Redis), and
//! [`NamespacedKv`], the per-plugin view that keeps each plugin's keys apart.
//!
//! Counters (`incr`) are stored as decimal text, as Redis does, so `get-many` reads them
//! and a Redis backend can share the same data layout. Sequential ids live in their own
//! per-namespace maps, apart from plain keys.

mod journal;
mod lazy;
mod namespace;
mod redis_kv;

pub use lazy::LazyKv;
pub use namespace::NamespacedKv;
pub use redis_kv::{RedisKv, RedisKvOptions};

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{CapabilityError, quote_key};
use journal::{Journal, Record};

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

/// The embedded kv: a map in memory, optionally journaled to disk.
///
/// With a journal every write call is appended and `fdatasync`ed before it returns, so
/// an id handed to a plugin (and forwarded in its points) is never assigned to another
/// key after a crash.
///
/// ```
/// use sluice_host::caps::kv::{EmbeddedKv, KvStore};
/// let kv = EmbeddedKv::in_memory();
/// let keys = ["GET /a".to_owned(), "GET /b".to_owned(), "GET /a".to_owned()];
/// assert_eq!(kv.assign_ids("flood-1", &keys).unwrap(), [0, 1, 0]);
/// assert_eq!(kv.incr("hits", 2).unwrap(), 2);
/// assert_eq!(kv.get_many(&["hits".to_owned()]).unwrap(), [Some(b"2".to_vec())]);
/// ```
#[derive(Debug)]
pub struct EmbeddedKv {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    values: HashMap<String, Vec<u8>>,
    /// Per namespace, the id of each key; the next id is the map's length.
    ids: HashMap<String, HashMap<String, u64>>,
    /// Where writes are persisted; none for a purely in-memory store.
    journal: Option<Journal>,
}

impl EmbeddedKv {
    /// A store that forgets everything when dropped.
    ///
    /// ```
    /// let kv = sluice_host::caps::kv::EmbeddedKv::in_memory();
    /// # drop(kv);
    /// ```
    pub fn in_memory() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Opens (or creates) the store persisted at `path`, replaying its journal. A torn
    /// last record (a crash mid-write) is cut off; a journal much larger than its live
    /// data is compacted.
    ///
    /// ```
    /// use sluice_host::caps::kv::{EmbeddedKv, KvStore};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("kv.journal");
    /// EmbeddedKv::open(&path).unwrap().set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
    /// let kv = EmbeddedKv::open(&path).unwrap();
    /// assert_eq!(kv.get_many(&["k".to_owned()]).unwrap(), [Some(b"v".to_vec())]);
    /// ```
    pub fn open(path: &Path) -> Result<Self, CapabilityError> {
        let mut inner = Inner::default();
        let journal = Journal::open(path, |record| inner.apply(record))?;
        let journal = if journal.is_wasteful(inner.live_bytes()) {
            journal.compact(inner.snapshot())?
        } else {
            journal
        };
        inner.journal = Some(journal);
        Ok(Self {
            inner: Mutex::new(inner),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated: every
        // write is applied only after the journal accepted it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Set { key, value } => {
                self.values.insert(key, value);
            }
            Record::Id { namespace, key, id } => {
                self.ids.entry(namespace).or_default().insert(key, id);
            }
        }
    }

    /// Writes `records` to the journal (if any), then applies them.
    fn commit(&mut self, records: Vec<Record>) -> Result<(), CapabilityError> {
        if let Some(journal) = &mut self.journal {
            journal.append(&records)?;
        }
        for record in records {
            self.apply(record);
        }
        Ok(())
    }

    fn live_records(&self) -> usize {
        self.values.len() + self.ids.values().map(HashMap::len).sum::<usize>()
    }

    /// What a journal holding only the live data would weigh.
    fn live_bytes(&self) -> u64 {
        let values: u64 = self
            .values
            .iter()
            .map(|(k, v)| journal::set_len(k, v))
            .sum();
        let ids: u64 = self
            .ids
            .iter()
            .flat_map(|(ns, m)| m.keys().map(move |k| journal::id_len(ns, k)))
            .sum();
        values + ids
    }

    fn snapshot(&self) -> Vec<Record> {
        let mut records = Vec::with_capacity(self.live_records());
        for (key, value) in &self.values {
            records.push(Record::Set {
                key: key.clone(),
                value: value.clone(),
            });
        }
        for (namespace, ids) in &self.ids {
            for (key, id) in ids {
                records.push(Record::Id {
                    namespace: namespace.clone(),
                    key: key.clone(),
                    id: *id,
                });
            }
        }
        records
    }
}

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

impl KvStore for EmbeddedKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        let inner = self.lock();
        Ok(keys.iter().map(|k| inner.values.get(k).cloned()).collect())
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        for (key, _) in &entries {
            check_key(key)?;
        }
        let records = entries
            .into_iter()
            .map(|(key, value)| Record::Set { key, value })
            .collect();
        self.lock().commit(records)
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        check_key(key)?;
        let mut inner = self.lock();
        let current = match inner.values.get(key) {
            None => 0,
            Some(value) => parse_counter(value).ok_or_else(|| CapabilityError::NotAnInteger {
                key: quote_key(key),
                value: quote_key(&String::from_utf8_lossy(value)),
            })?,
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| CapabilityError::Overflow {
                key: quote_key(key),
            })?;
        inner.commit(vec![Record::Set {
            key: key.to_owned(),
            value: next.to_string().into_bytes(),
        }])?;
        Ok(next)
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        for key in keys {
            check_key(key)?;
        }
        let mut inner = self.lock();
        let existing = inner.ids.get(namespace);
        let mut next = existing.map_or(0, |m| m.len() as u64);
        let mut fresh: HashMap<&str, u64> = HashMap::new();
        let mut ids = Vec::with_capacity(keys.len());
        let mut records = Vec::new();
        for key in keys {
            let id = match existing.and_then(|m| m.get(key)) {
                Some(id) => *id,
                None => *fresh.entry(key).or_insert_with(|| {
                    let id = next;
                    next += 1;
                    records.push(Record::Id {
                        namespace: namespace.to_owned(),
                        key: key.clone(),
                        id,
                    });
                    id
                }),
            };
            ids.push(id);
        }
        if !records.is_empty() {
            inner.commit(records)?;
        }
        Ok(ids)
    }
}

/// A decimal `i64`, as `incr` stores it.
fn parse_counter(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests;
