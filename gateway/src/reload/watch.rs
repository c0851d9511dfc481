//! What triggers a reload besides `POST /admin/reload`: a change to the config file or a
//! plugin's `.wasm` ([`watch_files`]) and `SIGHUP` ([`watch_signal`]).
//!
//! Files are watched through their directories, so a file replaced by a rename (how
//! editors and build tools write) is seen like one written in place. Only creations,
//! modifications and removals count (never accesses: the reload reads the files itself),
//! and changes within 50 ms of the first are folded into one reload.

use super::{Reloader, Trigger};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Changes closer together than this are one reload.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Watches the config file and every plugin's `.wasm` (the set is refreshed after each
/// reload) and reloads when one changes, until `shutdown`.
///
/// # Errors
/// The platform's watcher could not start (inotify limits, ...): reloads then come only
/// from `SIGHUP` and `POST /admin/reload`.
pub async fn watch_files(
    reloader: Arc<Reloader>,
    shutdown: CancellationToken,
) -> Result<(), notify::Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            )
        {
            // The receiver goes only at shutdown.
            let _ = tx.send(event.paths);
        }
    })?;
    let mut watched_dirs = HashSet::new();
    let mut files = reloader.watched_files().await;
    watch_dirs(&mut watcher, &files, &mut watched_dirs)?;
    tokio::spawn(async move {
        loop {
            let changed = tokio::select! {
                () = shutdown.cancelled() => break,
                changed = rx.recv() => changed,
            };
            let Some(changed) = changed else { break };
            if !changed.iter().any(|path| files.contains(path)) {
                continue;
            }
            // Let the rest of a multi-step write land, then drop what it queued.
            tokio::time::sleep(DEBOUNCE).await;
            while rx.try_recv().is_ok() {}
            reloader.reload(Trigger::Watch).await;
            files = reloader.watched_files().await;
            if let Err(e) = watch_dirs(&mut watcher, &files, &mut watched_dirs) {
                tracing::warn!(error = %e, "cannot watch a new plugin's directory; reload it with SIGHUP or POST /admin/reload");
            }
        }
    });
    Ok(())
}

/// Adds a watch on the directory of each of `files` not watched yet.
fn watch_dirs(
    watcher: &mut impl Watcher,
    files: &[PathBuf],
    watched: &mut HashSet<PathBuf>,
) -> Result<(), notify::Error> {
    for dir in files.iter().filter_map(|f| f.parent()) {
        if watched.contains(dir) {
            continue;
        }
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
        watched.insert(dir.to_owned());
    }
    Ok(())
}

/// Reloads on every `SIGHUP` until `shutdown` (instead of the signal's default, which
/// ends the process).
///
/// # Errors
/// The signal handler could not be installed.
pub fn watch_signal(reloader: Arc<Reloader>, shutdown: CancellationToken) -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                got = hangups.recv() => {
                    if got.is_none() {
                        break;
                    }
                    reloader.reload(Trigger::Signal).await;
                }
            }
        }
    });
    Ok(())
}
