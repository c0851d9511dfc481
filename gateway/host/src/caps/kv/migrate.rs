//! The one-time import of the journal the embedded kv kept before `redb`.
//!
//! When [`EmbeddedKv::open`](super::EmbeddedKv::open) finds `kv.journal` beside its
//! database file, it replays the journal's intact records (a torn tail is left out, as
//! the old store did) into the database in one durable write transaction, which also
//! records in the `meta` table that the import was done; then it renames the journal to
//! `kv.journal.migrated` (kept, never deleted) and logs how many keys and ids it
//! imported. Ids keep their numbers, and each namespace's next id follows its largest.
//!
//! A crash after the commit but before the rename is harmless: the next open sees the
//! mark, imports nothing again and only renames. A database that already holds data
//! but has no mark is refused (merging two stores could give two keys one id).

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata};

use super::embedded::{IDS, META, NEXT_ID, VALUES};
use super::journal::{self, Record};
use super::redb_error::At;
use crate::caps::CapabilityError;

/// The old journal's file name, in the database's directory.
pub(super) const JOURNAL: &str = "kv.journal";
/// What the journal is renamed to once imported.
pub(super) const MIGRATED_JOURNAL: &str = "kv.journal.migrated";
/// The `meta` key set (to the number of records imported) by the import's transaction.
pub(super) const MIGRATED: &str = "migrated_from_journal";

/// The journal's data, last write winning, as the old store held it in memory.
#[derive(Debug, Default)]
struct Snapshot {
    values: HashMap<String, Vec<u8>>,
    ids: HashMap<(String, String), u64>,
    /// Per namespace, one past its largest id.
    next: HashMap<String, u64>,
}

impl Snapshot {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Set { key, value } => {
                self.values.insert(key, value);
            }
            Record::Id { namespace, key, id } => {
                let next = self.next.entry(namespace.clone()).or_default();
                *next = (*next).max(id.saturating_add(1));
                self.ids.insert((namespace, key), id);
            }
        }
    }
}

/// Imports `kv.journal` from the directory of `db_path` into `db` if it is there (see
/// the module doc). Errors: [`CapabilityError::Locked`] if an older gateway still has
/// the journal open; [`CapabilityError::Corrupt`] if the journal is not one, or the
/// database already holds data it did not import; [`CapabilityError::Io`] otherwise.
pub(super) fn from_journal(db: &Database, db_path: &Path) -> Result<(), CapabilityError> {
    let dir = match db_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let journal_path = dir.join(JOURNAL);
    let present = journal_path.try_exists().map_err(io_err(&journal_path))?;
    if !present {
        return Ok(());
    }
    // An older gateway appending to the journal holds this lock: importing under it
    // would lose its later writes.
    let (lock_path, _lock) = lock_old(&journal_path)?;
    let mut txn = db.begin_write().at(db_path)?;
    txn.set_durability(Durability::Immediate).at(db_path)?;
    let done = txn
        .open_table(META)
        .at(db_path)?
        .get(MIGRATED)
        .at(db_path)?
        .is_some();
    if done {
        txn.abort().at(db_path)?;
    } else {
        let replay = journal::read(&journal_path)?;
        if replay.torn > 0 {
            tracing::warn!(
                path = %journal_path.display(),
                cut = replay.torn,
                "kv journal ends in a torn or corrupt record; importing the records before it"
            );
        }
        let records = replay.records.len() as u64;
        let mut snapshot = Snapshot::default();
        for record in replay.records {
            snapshot.apply(record);
        }
        {
            let mut values = txn.open_table(VALUES).at(db_path)?;
            let mut ids = txn.open_table(IDS).at(db_path)?;
            let mut next = txn.open_table(NEXT_ID).at(db_path)?;
            if !values.is_empty().at(db_path)? || !ids.is_empty().at(db_path)? {
                return Err(CapabilityError::Corrupt {
                    path: db_path.to_owned(),
                    reason: format!(
                        "holds data and {} is beside it: move one of the two away",
                        journal_path.display()
                    ),
                });
            }
            for (key, value) in &snapshot.values {
                values.insert(key.as_str(), value.as_slice()).at(db_path)?;
            }
            for ((namespace, key), id) in &snapshot.ids {
                ids.insert((namespace.as_str(), key.as_str()), *id)
                    .at(db_path)?;
            }
            for (namespace, n) in &snapshot.next {
                next.insert(namespace.as_str(), *n).at(db_path)?;
            }
            txn.open_table(META)
                .at(db_path)?
                .insert(MIGRATED, records)
                .at(db_path)?;
        }
        txn.commit().at(db_path)?;
        tracing::info!(
            from = %journal_path.display(),
            to = %db_path.display(),
            keys = snapshot.values.len(),
            ids = snapshot.ids.len(),
            namespaces = snapshot.next.len(),
            "kv: migrated the old journal into redb"
        );
    }
    let migrated = dir.join(MIGRATED_JOURNAL);
    std::fs::rename(&journal_path, &migrated).map_err(io_err(&journal_path))?;
    match std::fs::remove_file(&lock_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&lock_path)(e)),
        _ => {}
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Takes the old journal's exclusive lock, `<journal>.lock`, as the old store did.
fn lock_old(journal: &Path) -> Result<(PathBuf, File), CapabilityError> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok((path, file)),
        Err(TryLockError::WouldBlock) => Err(CapabilityError::Locked { path }),
        Err(TryLockError::Error(source)) => Err(CapabilityError::Io { path, source }),
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CapabilityError + '_ {
    move |source| CapabilityError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::kv::{EmbeddedKv, KvStore};

    fn id(namespace: &str, key: &str, id: u64) -> Record {
        Record::Id {
            namespace: namespace.into(),
            key: key.into(),
            id,
        }
    }

    fn old_journal() -> Vec<Record> {
        vec![
            id("flood", "GET /a", 0),
            id("flood", "GET /b", 1),
            Record::Set {
                key: "hits".into(),
                value: b"1".to_vec(),
            },
            id("other", "x", 0),
            id("flood", "GET /c", 2),
            Record::Set {
                key: "hits".into(),
                value: b"7".to_vec(),
            },
        ]
    }

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn ids_and_values_of_the_old_journal_survive_the_move() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = journal::encode_journal(&old_journal());
        bytes.extend_from_slice(&[9, 0, 0]); // a torn tail, left out
        std::fs::write(dir.path().join(JOURNAL), bytes).unwrap();
        let path = dir.path().join("kv.redb");
        {
            let kv = EmbeddedKv::open(&path).unwrap();
            assert_eq!(
                kv.assign_ids("flood", &keys(&["GET /c", "GET /new", "GET /a"]))
                    .unwrap(),
                [2, 3, 0]
            );
            assert_eq!(kv.assign_ids("other", &keys(&["y", "x"])).unwrap(), [1, 0]);
            assert_eq!(kv.incr("hits", 1).unwrap(), 8);
        }
        assert!(!dir.path().join(JOURNAL).exists());
        assert!(dir.path().join(MIGRATED_JOURNAL).exists());
        assert!(!dir.path().join("kv.journal.lock").exists());
        // Reopened: nothing imported twice, the new ids kept.
        let kv = EmbeddedKv::open(&path).unwrap();
        assert_eq!(
            kv.assign_ids("flood", &keys(&["GET /new", "GET /d"]))
                .unwrap(),
            [3, 4]
        );
        assert_eq!(
            kv.get_many(&keys(&["hits"])).unwrap(),
            [Some(b"8".to_vec())]
        );
    }

    #[test]
    fn a_crash_between_import_and_rename_imports_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = journal::encode_journal(&old_journal());
        std::fs::write(dir.path().join(JOURNAL), &bytes).unwrap();
        let path = dir.path().join("kv.redb");
        EmbeddedKv::open(&path).unwrap().incr("hits", 1).unwrap();
        // The journal is back, as if the rename had not happened.
        std::fs::write(dir.path().join(JOURNAL), &bytes).unwrap();
        let kv = EmbeddedKv::open(&path).unwrap();
        assert_eq!(
            kv.get_many(&keys(&["hits"])).unwrap(),
            [Some(b"8".to_vec())]
        );
        assert!(!dir.path().join(JOURNAL).exists());
    }

    #[test]
    fn a_database_with_data_of_its_own_is_not_merged_with_a_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        EmbeddedKv::open(&path)
            .unwrap()
            .assign_ids("flood", &keys(&["GET /z"]))
            .unwrap();
        std::fs::write(
            dir.path().join(JOURNAL),
            journal::encode_journal(&old_journal()),
        )
        .unwrap();
        let err = EmbeddedKv::open(&path).unwrap_err();
        assert!(
            err.to_string().contains("move one of the two away"),
            "{err}"
        );
        assert!(dir.path().join(JOURNAL).exists(), "the journal is kept");
    }

    #[test]
    fn an_old_gateway_still_holding_the_journal_blocks_the_import() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(JOURNAL),
            journal::encode_journal(&old_journal()),
        )
        .unwrap();
        let (_, old_lock) = lock_old(&dir.path().join(JOURNAL)).unwrap();
        let err = EmbeddedKv::open(&dir.path().join("kv.redb")).unwrap_err();
        assert!(
            matches!(&err, CapabilityError::Locked { path } if path.ends_with("kv.journal.lock")),
            "{err:?}"
        );
        drop(old_lock);
        let kv = EmbeddedKv::open(&dir.path().join("kv.redb")).unwrap();
        assert_eq!(kv.assign_ids("flood", &keys(&["GET /b"])).unwrap(), [1]);
    }
}
