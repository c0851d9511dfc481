//! Deleting segments that every consumer has acknowledged.

use std::io::ErrorKind;

use super::{Core, dir, segment};

/// Deletes the sealed segments every consumer has passed: renames each aside (see
/// [`reclaim`](super::reclaim), which then gives its space back off this thread), syncs the
/// directory, and frees their bytes in the queue's accounting. Blocking, but never for the
/// time it takes the filesystem to free a segment's blocks: call from the writer thread or
/// `spawn_blocking`.
///
/// A file that cannot be renamed is logged and forgotten: the next open finds it again and,
/// every consumer being past it, deletes it then.
pub(crate) fn delete_passed_segments(core: &Core) {
    let passed = core.lock_state().take_passed_segments();
    if passed.is_empty() {
        return;
    }
    let mut freed = 0;
    let mut renamed = Vec::with_capacity(passed.len());
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
                renamed.push(aside);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not delete an acknowledged buffer segment");
            }
        }
        freed += len;
    }
    if let Err(e) = dir::sync(&core.dir) {
        tracing::warn!(error = %e, "could not sync the buffer directory after deleting segments");
    }
    {
        let mut state = core.lock_state();
        state.retained = state.retained.saturating_sub(freed);
    }
    for aside in renamed {
        core.reclaimer.reclaim(aside);
    }
}
