//! [`EmbeddedKv`]: the kv in this process, a `redb` database in one file (or in memory).

use std::path::{Path, PathBuf};

use redb::backends::InMemoryBackend;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use super::redb_error::{At, storage_error};
use super::{KvStore, check_key, migrate, parse_counter};
use crate::caps::{CapabilityError, quote_key};

/// Plain values (`set-many`, `incr`): key → bytes (counters as decimal text).
pub(super) const VALUES: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("values");
/// Assigned ids: (namespace, key) → id.
pub(super) const IDS: TableDefinition<'_, (&str, &str), u64> = TableDefinition::new("ids");
/// Per namespace, the next id to assign (the count of ids it has).
pub(super) const NEXT_ID: TableDefinition<'_, &str, u64> = TableDefinition::new("next_id");
/// Bookkeeping: [`migrate::MIGRATED`] once the old journal was imported.
pub(super) const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");

/// Page cache bound (bytes). `redb` defaults to 1 GiB; a gateway's kv (label ids,
/// counters) is small, and the gateway's memory belongs to its buffers.
const CACHE_BYTES: usize = 64 << 20;

/// The embedded kv: a [`redb`] database, in a file or in memory.
///
/// Every write call is one write transaction, committed with [`Durability::Immediate`]
/// (on disk before the call returns), so an id handed to a plugin (and forwarded in its
/// points) is never assigned to another key after a crash. Reads run in read
/// transactions, concurrently with each other and with a write.
///
/// ```
/// use sluice_host::caps::kv::{EmbeddedKv, KvStore};
/// let kv = EmbeddedKv::in_memory().unwrap();
/// let keys = ["GET /a".to_owned(), "GET /b".to_owned(), "GET /a".to_owned()];
/// assert_eq!(kv.assign_ids("flood-1", &keys).unwrap(), [0, 1, 0]);
/// assert_eq!(kv.incr("hits", 2).unwrap(), 2);
/// assert_eq!(kv.get_many(&["hits".to_owned()]).unwrap(), [Some(b"2".to_vec())]);
/// ```
#[derive(Debug)]
pub struct EmbeddedKv {
    db: Database,
    /// The database file, for errors (`(in memory)` for an in-memory store).
    path: PathBuf,
}

impl EmbeddedKv {
    /// A store that forgets everything when dropped (`redb`'s in-memory backend: the
    /// same code, transactions and errors as a file, which `sluice check`'s scratch
    /// capabilities and the tests rely on).
    ///
    /// Errors: in practice none (the database lives in a `Vec`); redb's errors are
    /// mapped as for a file, the path shown as `(in memory)`.
    ///
    /// ```
    /// let kv = sluice_host::caps::kv::EmbeddedKv::in_memory().unwrap();
    /// # drop(kv);
    /// ```
    pub fn in_memory() -> Result<Self, CapabilityError> {
        let path = PathBuf::from("(in memory)");
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(InMemoryBackend::new())
            .map_err(|e| storage_error(&path, e))?;
        let kv = Self { db, path };
        kv.create_tables()?;
        Ok(kv)
    }

    /// Opens (or creates) the store in the `redb` file at `path`, holding it exclusively
    /// until dropped. If the old journal (`kv.journal` in the same directory) is there,
    /// its data is first imported once, and the journal renamed `kv.journal.migrated`.
    ///
    /// Errors: [`CapabilityError::Locked`] (naming `path`) if another process, or
    /// another open store in this one, has the file; [`CapabilityError::Corrupt`] if it
    /// is not a `redb` database this build reads; [`CapabilityError::Io`] otherwise.
    ///
    /// ```
    /// use sluice_host::caps::kv::{EmbeddedKv, KvStore};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("kv.redb");
    /// EmbeddedKv::open(&path).unwrap().set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
    /// let kv = EmbeddedKv::open(&path).unwrap();
    /// assert_eq!(kv.get_many(&["k".to_owned()]).unwrap(), [Some(b"v".to_vec())]);
    /// ```
    pub fn open(path: &Path) -> Result<Self, CapabilityError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .at(path)?;
        let kv = Self {
            db,
            path: path.to_owned(),
        };
        kv.create_tables()?;
        migrate::from_journal(&kv.db, path)?;
        Ok(kv)
    }

    /// Creates the tables if this is a new database, so reads never meet a missing one.
    fn create_tables(&self) -> Result<(), CapabilityError> {
        let txn = self.write()?;
        {
            txn.open_table(VALUES).at(&self.path)?;
            txn.open_table(IDS).at(&self.path)?;
            txn.open_table(NEXT_ID).at(&self.path)?;
            txn.open_table(META).at(&self.path)?;
        }
        txn.commit().at(&self.path)
    }

    /// The ids of `keys` in `namespace` if every one has an id, read in a read
    /// transaction (no writer waited for, nothing to sync); `None` if any is new.
    fn known_ids(
        &self,
        namespace: &str,
        keys: &[String],
    ) -> Result<Option<Vec<u64>>, CapabilityError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(IDS).at(&self.path)?;
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            match table.get((namespace, key.as_str())).at(&self.path)? {
                Some(id) => ids.push(id.value()),
                None => return Ok(None),
            }
        }
        Ok(Some(ids))
    }

    /// A durable write transaction (waits for the one running, if any).
    fn write(&self) -> Result<WriteTransaction, CapabilityError> {
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        Ok(txn)
    }
}

impl KvStore for EmbeddedKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let values = txn.open_table(VALUES).at(&self.path)?;
        keys.iter()
            .map(|k| {
                let value = values.get(k.as_str()).at(&self.path)?;
                Ok(value.map(|v| v.value().to_vec()))
            })
            .collect()
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        for (key, _) in &entries {
            check_key(key)?;
        }
        let txn = self.write()?;
        {
            let mut values = txn.open_table(VALUES).at(&self.path)?;
            for (key, value) in &entries {
                values
                    .insert(key.as_str(), value.as_slice())
                    .at(&self.path)?;
            }
        }
        txn.commit().at(&self.path)
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        check_key(key)?;
        let txn = self.write()?;
        let next = {
            let mut values = txn.open_table(VALUES).at(&self.path)?;
            let current = match values.get(key).at(&self.path)? {
                None => 0,
                Some(value) => {
                    let value = value.value();
                    parse_counter(value).ok_or_else(|| CapabilityError::NotAnInteger {
                        key: quote_key(key),
                        value: quote_key(&String::from_utf8_lossy(value)),
                    })?
                }
            };
            let next = current
                .checked_add(delta)
                .ok_or_else(|| CapabilityError::Overflow {
                    key: quote_key(key),
                })?;
            values
                .insert(key, next.to_string().as_bytes())
                .at(&self.path)?;
            next
        };
        txn.commit().at(&self.path)?;
        Ok(next)
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        for key in keys {
            check_key(key)?;
        }
        if let Some(ids) = self.known_ids(namespace, keys)? {
            return Ok(ids);
        }
        let txn = self.write()?;
        let (ids, assigned) = {
            let mut table = txn.open_table(IDS).at(&self.path)?;
            let mut next_table = txn.open_table(NEXT_ID).at(&self.path)?;
            let first = next_table
                .get(namespace)
                .at(&self.path)?
                .map_or(0, |n| n.value());
            let mut next = first;
            let mut ids = Vec::with_capacity(keys.len());
            for key in keys {
                let known = table
                    .get((namespace, key.as_str()))
                    .at(&self.path)?
                    .map(|id| id.value());
                let id = match known {
                    Some(id) => id,
                    None => {
                        let id = next;
                        next += 1;
                        table.insert((namespace, key.as_str()), id).at(&self.path)?;
                        id
                    }
                };
                ids.push(id);
            }
            if next != first {
                next_table.insert(namespace, next).at(&self.path)?;
            }
            (ids, next != first)
        };
        if assigned {
            txn.commit().at(&self.path)?;
        } else {
            // Another call assigned the missing ids since `known_ids` looked.
            txn.abort().at(&self.path)?;
        }
        Ok(ids)
    }
}
