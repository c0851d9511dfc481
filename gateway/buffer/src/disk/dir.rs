//! The buffer directory: its `LOCK`, its listing, and `fsync` of the directory itself.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::{cursor, segment};
use crate::Error;

/// Name of the lock file.
const LOCK_FILE: &str = "LOCK";

/// Creates `dir` if needed and takes its exclusive lock; the lock lasts as long as the returned
/// file is open.
pub(crate) fn lock(dir: &Path) -> Result<File, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}

/// Makes creations, renames and deletions in `dir` durable.
/// Removes the file at `path`; one already gone is not an error (a crash or an earlier
/// removal may have taken it).
///
/// Errors: any other error of `remove_file`.
pub(crate) fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

pub(crate) fn sync(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// What the directory holds, sorted.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Segment ids, ascending.
    pub(crate) segments: Vec<u64>,
    /// Consumer names that have a cursor file.
    pub(crate) cursors: Vec<String>,
    /// Leftovers of interrupted cursor writes.
    pub(crate) temporary: Vec<PathBuf>,
    /// Deleted segments whose removal was interrupted (see `reclaim`).
    pub(crate) deleted: Vec<PathBuf>,
}

/// Lists segments, cursor files, temporary files and deleted segments; other files are left
/// alone.
pub(crate) fn list(dir: &Path) -> Result<Listing, Error> {
    let mut listing = Listing::default();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = segment::parse_file_name(name) {
            listing.segments.push(id);
        } else if let Some(consumer) = cursor::parse_file_name(name) {
            listing.cursors.push(consumer.to_owned());
        } else if cursor::is_temporary(name) {
            listing.temporary.push(entry.path());
        } else if segment::is_deleted(name) {
            listing.deleted.push(entry.path());
        }
    }
    listing.segments.sort_unstable();
    listing.cursors.sort();
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        assert!(matches!(lock(dir.path()), Err(Error::Locked { .. })));
        drop(held);
        assert!(lock(dir.path()).is_ok());
    }
}
