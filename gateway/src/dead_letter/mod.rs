//! The dead-letter store: batches a store refused or a plugin failed on, kept with
//! their context and the error (a store's status and message) so an operator can inspect and replay them
//! (`sluice dlq list|replay`). One entry is two files, `<id>.lp` (the lines) and
//! `<id>.json` (what happened); the JSON is written last, so an entry without it is an
//! interrupted write and is ignored.

use crate::batch::{Batch, Context, Origin};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why the dead-letter store failed.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// File-system error, with the path.
    #[error("dead-letter store {}: {source}", path.display())]
    Io {
        /// File or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An entry's metadata is not valid JSON.
    #[error("dead-letter entry {}: {source}", path.display())]
    Meta {
        /// The metadata file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// No entry has this id.
    #[error("no dead-letter entry with id {0:?}")]
    NotFound(String),
}

/// What is known about one dead-lettered batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryMeta {
    /// Unique id (sortable by time).
    pub id: String,
    /// Unix time in milliseconds when it was stored.
    pub created_ms: u64,
    /// `output` (a store rejected it) or `plugin` (the chain failed on it).
    pub stage: String,
    /// The output or plugin name.
    pub source: String,
    /// sha256 of the plugin's wasm, when a plugin failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_sha256: Option<String>,
    /// Database of the batch.
    pub db: String,
    /// Retention policy of the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp: Option<String>,
    /// Points in the batch.
    pub points: usize,
    /// The store's HTTP status, when a store refused the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The error that sent it here (a store's own error message, for a refusal).
    pub error: String,
    /// Where the write came from, for a batch a plugin failed on (what the plugin saw in
    /// its context, and sees again on replay).
    #[serde(default, skip_serializing_if = "Origin::is_empty")]
    pub origin: Origin,
}

/// A new entry to store.
#[derive(Debug)]
pub struct NewEntry<'a> {
    /// `output` or `plugin`.
    pub stage: &'static str,
    /// Output or plugin name.
    pub source: &'a str,
    /// sha256 of the plugin, for plugin failures.
    pub plugin_sha256: Option<&'a str>,
    /// The store's HTTP status, for a store's refusal.
    pub status: Option<u16>,
    /// The batch, with its original lines.
    pub batch: &'a Batch,
    /// Why.
    pub error: &'a str,
    /// Where the write came from (empty for store rejections).
    pub origin: Origin,
}

/// A directory of dead-lettered batches.
#[derive(Debug)]
pub struct DeadLetters {
    dir: PathBuf,
    seq: AtomicU64,
}

impl DeadLetters {
    /// Opens (creating) the store directory.
    pub fn open(dir: &Path) -> Result<Self, DeadLetterError> {
        std::fs::create_dir_all(dir).map_err(|source| DeadLetterError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            seq: AtomicU64::new(0),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores an entry durably (files fsynced, then renamed into place) and returns its id.
    pub fn put(&self, entry: &NewEntry<'_>) -> Result<String, DeadLetterError> {
        let created_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "{created_ms:013}-{}-{seq:04}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let ctx = entry.batch.context();
        let meta = EntryMeta {
            id: id.clone(),
            created_ms,
            stage: entry.stage.to_owned(),
            source: entry.source.to_owned(),
            plugin_sha256: entry.plugin_sha256.map(str::to_owned),
            db: ctx.db.clone(),
            rp: ctx.rp.clone(),
            points: entry.batch.points(),
            status: entry.status,
            error: entry.error.to_owned(),
            origin: entry.origin.clone(),
        };
        let json = serde_json::to_vec_pretty(&meta).map_err(|source| DeadLetterError::Meta {
            path: self.meta_path(&id),
            source,
        })?;
        self.write_atomic(&self.lines_path(&id), entry.batch.lines())?;
        self.write_atomic(&self.meta_path(&id), &json)?;
        Ok(id)
    }

    /// Every complete entry, oldest first.
    pub fn list(&self) -> Result<Vec<EntryMeta>, DeadLetterError> {
        let read = std::fs::read_dir(&self.dir).map_err(|source| self.io(&self.dir, source))?;
        let mut out = Vec::new();
        for dirent in read {
            let path = dirent.map_err(|source| self.io(&self.dir, source))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(self.read_meta(&path)?);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// An entry's metadata and its batch.
    pub fn get(&self, id: &str) -> Result<(EntryMeta, Batch), DeadLetterError> {
        if id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(DeadLetterError::NotFound(id.to_owned()));
        }
        let meta_path = self.meta_path(id);
        if !meta_path.exists() {
            return Err(DeadLetterError::NotFound(id.to_owned()));
        }
        let meta = self.read_meta(&meta_path)?;
        let lines_path = self.lines_path(id);
        let lines = std::fs::read(&lines_path).map_err(|source| self.io(&lines_path, source))?;
        let ctx = Context {
            db: meta.db.clone(),
            rp: meta.rp.clone(),
        };
        let batch = Batch::from_lines(ctx, &lines, meta.points);
        Ok((meta, batch))
    }

    /// Deletes an entry (after a successful replay).
    pub fn remove(&self, id: &str) -> Result<(), DeadLetterError> {
        // Metadata first: without it the entry no longer exists, even if the lines linger.
        for path in [self.meta_path(id), self.lines_path(id)] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(self.io(&path, source)),
            }
        }
        Ok(())
    }

    fn read_meta(&self, path: &Path) -> Result<EntryMeta, DeadLetterError> {
        let bytes = std::fs::read(path).map_err(|source| self.io(path, source))?;
        serde_json::from_slice(&bytes).map_err(|source| DeadLetterError::Meta {
            path: path.to_owned(),
            source,
        })
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> Result<(), DeadLetterError> {
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|source| self.io(&tmp, source))?;
        file.write_all(data)
            .and_then(|()| file.sync_data())
            .map_err(|source| self.io(&tmp, source))?;
        std::fs::rename(&tmp, path).map_err(|source| self.io(path, source))?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            // Best effort: the entry is already complete; this only hardens the rename.
            let _synced = dir.sync_all();
        }
        Ok(())
    }

    fn meta_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn lines_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lp"))
    }

    fn io(&self, path: &Path, source: std::io::Error) -> DeadLetterError {
        DeadLetterError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_list_get_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeadLetters::open(dir.path()).unwrap();
        let batch = Batch::from_lines(Context::from_bucket("db/rp"), b"m v=1 1\n", 1);
        let id = store
            .put(&NewEntry {
                stage: "output",
                source: "central",
                plugin_sha256: None,
                status: Some(404),
                batch: &batch,
                error: "database not found: \"db\"",
                origin: Origin::default(),
            })
            .unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, id);
        assert_eq!(list[0].rp.as_deref(), Some("rp"));
        let (meta, back) = store.get(&id).unwrap();
        assert_eq!(meta.error, "database not found: \"db\"");
        assert_eq!(meta.status, Some(404));
        assert_eq!(back.lines(), b"m v=1 1\n");
        store.remove(&id).unwrap();
        assert!(store.list().unwrap().is_empty());
        assert!(matches!(store.get(&id), Err(DeadLetterError::NotFound(_))));
        assert!(matches!(
            store.get("../x"),
            Err(DeadLetterError::NotFound(_))
        ));
    }

    #[test]
    fn entry_without_meta_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("123.lp"), b"m v=1 1\n").unwrap();
        let store = DeadLetters::open(dir.path()).unwrap();
        assert!(store.list().unwrap().is_empty());
    }
}
