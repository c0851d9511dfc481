//! The `blob` capability: the [`BlobStore`] backend trait, [`FsBlobStore`], which keeps
//! each object as a file and hands back a `file://` URL, and [`S3BlobStore`], which puts
//! it in an S3 bucket and hands back its HTTP URL.

mod s3;

pub use s3::{S3BlobStore, S3Options};

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CapabilityError, quote_key};

/// Longest key accepted (bytes).
const MAX_KEY: usize = 1024;

/// A large-object backend for the `blob` import.
pub trait BlobStore: Send + Sync + 'static {
    /// Stores every `(key, data)` pair, replacing existing objects, and returns their
    /// URLs in order.
    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<Vec<String>, CapabilityError>;
}

/// Blobs as files under one directory. Keys are relative paths of safe characters
/// (`A–Z a–z 0–9 . _ - = + , @ ~ :` and `/` between non-empty segments, none starting
/// with `.`), so a key can never leave the directory. Each object is written to a
/// temporary file, synced and renamed into place: a reader never sees half an object.
///
/// ```
/// use sluice_host::caps::blob::{BlobStore, FsBlobStore};
/// let dir = tempfile::tempdir().unwrap();
/// let store = FsBlobStore::open(dir.path()).unwrap();
/// let urls = store.put_many(vec![("traces/req-1.json".into(), b"{}".to_vec())]).unwrap();
/// assert!(urls[0].starts_with("file:///") && urls[0].ends_with("/traces/req-1.json"));
/// assert!(store.put_many(vec![("../escape".into(), vec![])]).is_err());
/// ```
#[derive(Debug)]
pub struct FsBlobStore {
    /// Absolute, so URLs are absolute.
    dir: PathBuf,
    /// Makes temporary file names unique within the process.
    counter: AtomicU64,
}

impl FsBlobStore {
    /// Uses (and creates) `dir`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = sluice_host::caps::blob::FsBlobStore::open(&dir.path().join("blobs")).unwrap();
    /// assert!(dir.path().join("blobs").is_dir());
    /// # drop(store);
    /// ```
    pub fn open(dir: &Path) -> Result<Self, CapabilityError> {
        let io = |source| CapabilityError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let dir = dir.canonicalize().map_err(io)?;
        Ok(Self {
            dir,
            counter: AtomicU64::new(0),
        })
    }

    /// Writes one object; `key` is already checked.
    fn put(&self, key: &str, data: &[u8]) -> Result<String, CapabilityError> {
        let path = self.dir.join(key);
        let parent = path.parent().unwrap_or(&self.dir);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CapabilityError::Io { path, source }
        };
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".tmp-{}-{n}", std::process::id()));
        let written = File::create(&tmp).and_then(|mut f| {
            f.write_all(data)?;
            f.sync_data()
        });
        if let Err(source) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(CapabilityError::Io { path, source });
        }
        Ok(file_url(&path))
    }
}

impl BlobStore for FsBlobStore {
    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<Vec<String>, CapabilityError> {
        // Refuse the whole call before writing anything when one key is bad.
        for (key, _) in &objects {
            check_key(key)?;
        }
        objects
            .iter()
            .map(|(key, data)| self.put(key, data))
            .collect()
    }
}

fn check_key(key: &str) -> Result<(), CapabilityError> {
    let invalid = |reason| {
        Err(CapabilityError::InvalidKey {
            key: quote_key(key),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("empty");
    }
    if key.len() > MAX_KEY {
        return invalid("longer than 1024 bytes");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return invalid("empty path segment");
        }
        if segment.starts_with('.') {
            return invalid("a path segment starts with '.'");
        }
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "._-=+,@~:/".contains(c);
    if !key.chars().all(safe) {
        return invalid("only A-Z a-z 0-9 . _ - = + , @ ~ : and / are allowed");
    }
    Ok(())
}

/// `file://` URL of an absolute path, percent-encoding what is not URL-safe.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~=+,@:".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_land_as_files_and_replace_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let urls = store
            .put_many(vec![
                ("a".into(), b"1".to_vec()),
                ("x/y/b.bin".into(), b"2".to_vec()),
            ])
            .unwrap();
        assert_eq!(urls.len(), 2);
        store.put_many(vec![("a".into(), b"3".to_vec())]).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"3");
        assert_eq!(std::fs::read(dir.path().join("x/y/b.bin")).unwrap(), b"2");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        for key in [
            "", "/abs", "a//b", "../x", "a/./b", ".hidden", "a b", "a\\b", "é",
        ] {
            assert!(check_key(key).is_err(), "{key:?} accepted");
        }
        for key in ["a", "a/b/c.json", "req-1_2=3+4,5@6~7:8"] {
            check_key(key).unwrap();
        }
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(
            file_url(Path::new("/tmp/with space/ü")),
            "file:///tmp/with%20space/%C3%BC"
        );
    }
}
