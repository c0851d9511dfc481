//! Finding the `sluice` executable, and running one-shot commands (`sluice check`, the
//! `influx` CLI) with a bound on their run time.

use crate::wait::wait_until;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// Where the `sluice` binary is looked for, in order: `$SLUICE_BIN`; next to this test
/// executable (same target dir and profile); `<root>/target/release`; `<root>/target/debug`.
pub fn sluice_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("SLUICE_BIN") {
        candidates.push(PathBuf::from(path));
    }
    // <target>/<profile>/deps/e2e-<hash> → <target>/<profile>/sluice
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.join("sluice"));
    }
    let root = workspace_root();
    candidates.push(root.join("target/release/sluice"));
    candidates.push(root.join("target/debug/sluice"));
    candidates
}

/// The `sluice` executable (see [`sluice_candidates`]).
///
/// # Panics
/// If none exists, listing where it looked.
pub fn sluice_bin() -> PathBuf {
    let candidates = sluice_candidates();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no sluice binary; build it first (`cargo build --release -p sluice`) or set \
                 SLUICE_BIN. Looked in: {candidates:?}"
            )
        })
}

/// A `sluice` command with `args`, run in `cwd`, logs without colour.
pub fn sluice_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(sluice_bin());
    command.args(args).current_dir(cwd).env("NO_COLOR", "1");
    command
}

/// What a finished one-shot command did.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Exit code; `None` if killed by a signal (or by the time bound).
    pub code: Option<i32>,
    /// Its stdout, lossily decoded.
    pub stdout: String,
    /// Its stderr, lossily decoded.
    pub stderr: String,
}

impl CommandOutput {
    /// Everything it printed, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `command` to completion with stdin closed, killing it after `timeout`; its output
/// goes through temp files, so a chatty command cannot block on a full pipe.
///
/// # Panics
/// If it cannot be spawned or does not finish within `timeout`.
pub fn run_command(command: &mut Command, timeout: Duration) -> CommandOutput {
    let mut out =
        tempfile::tempfile().unwrap_or_else(|e| panic!("creating a temp file for stdout: {e}"));
    let mut err =
        tempfile::tempfile().unwrap_or_else(|e| panic!("creating a temp file for stderr: {e}"));
    let clone = |f: &std::fs::File| {
        f.try_clone()
            .unwrap_or_else(|e| panic!("cloning a temp file handle: {e}"))
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(clone(&out)))
        .stderr(Stdio::from(clone(&err)))
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {command:?}: {e}"));
    let status = wait_until(timeout, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{command:?} did not finish within {timeout:?}");
    };
    let read = |f: &mut std::fs::File| {
        let mut bytes = Vec::new();
        f.rewind()
            .and_then(|()| f.read_to_end(&mut bytes))
            .unwrap_or_else(|e| panic!("reading command output: {e}"));
        String::from_utf8_lossy(&bytes).into_owned()
    };
    CommandOutput {
        code: status.code(),
        stdout: read(&mut out),
        stderr: read(&mut err),
    }
}
