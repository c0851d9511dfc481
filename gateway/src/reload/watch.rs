//! What triggers a reload besides `POST /admin/reload`: a change to the config file or a
//! plugin's `.wasm` ([`watch_files`]) and `SIGHUP` ([`watch_signal`]).
//!
//! Files are watched through their directories, so a file replaced by a rename (how
//! editors and build tools write) is seen like one written in place; changes within
//! 100 ms are folded into one reload (`notify-debouncer-mini`).

use super::{Reloader, Trigger};
use notify_debouncer_mini::notify::{self, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Changes closer together than this are one reload.
const DEBOUNCE: Duration = Duration::from_millis(100);

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
    let mut debouncer = new_debouncer(DEBOUNCE, move |events: DebounceEventResult| {
        if let Ok(events) = events {
            // The receiver goes only at shutdown.
            let _ = tx.send(events.into_iter().map(|e| e.path).collect());
        }
    })?;
    let mut watched_dirs = HashSet::new();
    let mut files = reloader.watched_files().await;
    watch_dirs(debouncer.watcher(), &files, &mut watched_dirs)?;
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
            reloader.reload(Trigger::Watch).await;
            files = reloader.watched_files().await;
            if let Err(e) = watch_dirs(debouncer.watcher(), &files, &mut watched_dirs) {
                tracing::warn!(error = %e, "cannot watch a new plugin's directory; reload it with SIGHUP or POST /admin/reload");
            }
        }
    });
    Ok(())
}

/// Adds a watch on the directory of each of `files` not watched yet.
fn watch_dirs(
    watcher: &mut dyn notify::Watcher,
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
