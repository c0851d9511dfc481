//! Deleting segments that every consumer has acknowledged.

use std::io::ErrorKind;

use super::{Core, dir, reclaim, segment};

/// Where a deleted segment's file is removed (see [`reclaim`](super::reclaim)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// On the calling thread, before [`delete_passed_segments`] returns: the space is free
    /// when it returns. For every caller but the writer.
    Here,
    /// On the reclaim thread: the writer thread never waits for the filesystem to free a
    /// segment's blocks. Until then its bytes still count against `max_size`.
    Background,
}

/// Deletes the sealed segments every consumer has passed: renames each aside (cheap), syncs
/// the directory, and removes the files in small steps, `removal` says where. Blocking: call
/// from the writer thread (with [`Removal::Background`]) or `spawn_blocking`.
///
/// A file that cannot be renamed is logged and forgotten: the next open finds it again and,
/// every consumer being past it, deletes it then. When the directory cannot be synced, the
/// renamed files are left for the next open (a rename lost in a crash must not come back as
/// a shortened segment) and their bytes stay counted.
pub(crate) fn delete_passed_segments(core: &Core, removal: Removal) {
    let passed = core.lock_state().take_passed_segments();
    if passed.is_empty() {
        return;
    }
    let mut renamed = Vec::with_capacity(passed.len());
    let mut gone = 0;
    for (id, len) in passed {
        let path = core.dir.join(segment::file_name(id));
        let aside = core.dir.join(segment::deleted_file_name(id));
        match std::fs::rename(&path, &aside) {
            Ok(()) => {
                tracing::debug!(
                    segment = id,
                    bytes = len,
                    "deleted acknowledged buffer segment"
                );
                renamed.push((aside, len));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => gone += len,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not delete an acknowledged buffer segment");
                gone += len;
            }
        }
    }
    let synced = dir::sync(&core.dir);
    let mut freed = gone;
    match &synced {
        Ok(()) => freed += renamed.iter().map(|(_, len)| len).sum::<u64>(),
        Err(e) => {
            tracing::warn!(error = %e, "could not sync the buffer directory after deleting segments; their files are removed on the next open");
        }
    }
    {
        let mut state = core.lock_state();
        state.retained = state.retained.saturating_sub(freed);
    }
    if synced.is_err() {
        return;
    }
    for (aside, len) in renamed {
        match removal {
            Removal::Here => reclaim::remove_logged(&aside),
            Removal::Background => core.reclaimer.reclaim(aside, len),
        }
    }
}
