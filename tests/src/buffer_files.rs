//! The disk buffer's files (`<buffer.dir>/segment-<20-digit id>.log`), for tests that damage
//! them the way a crash would.

use std::path::{Path, PathBuf};

/// Every `segment-*.log` in `buffer_dir`, oldest first (ids are zero-padded, so names sort).
///
/// # Panics
/// If the directory cannot be listed.
pub fn segments(buffer_dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(buffer_dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", buffer_dir.display()));
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("segment-") && n.ends_with(".log"))
        })
        .collect();
    found.sort();
    found
}

/// The newest segment of `buffer_dir`.
///
/// # Panics
/// If there is none.
pub fn newest_segment(buffer_dir: &Path) -> PathBuf {
    segments(buffer_dir)
        .pop()
        .unwrap_or_else(|| panic!("no segment-*.log in {}", buffer_dir.display()))
}

/// Every regular file under `dir`, recursively (empty if it does not exist), sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}
