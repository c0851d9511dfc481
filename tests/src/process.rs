//! A child process the harness owns: its stdout and stderr go to a log file, it is killed in
//! `Drop`, and the tail of its log is printed when the owning test panics.

use crate::wait::wait_until;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// Written to the log before every start, so one run's lines can be told from the last.
const START_MARKER: &str = "----- harness: starting";

/// Lines of log printed when a test fails.
const TAIL_LINES: usize = 80;

/// A long-running child process (a server) with a log file.
#[derive(Debug)]
pub struct Service {
    /// Shown in messages and log markers.
    name: String,
    /// The executable.
    program: PathBuf,
    /// Its arguments, reused by every start.
    args: Vec<OsString>,
    /// Extra environment (on top of the test's own).
    env: Vec<(String, String)>,
    /// Working directory.
    cwd: PathBuf,
    /// Where stdout and stderr go, appended across restarts.
    log_path: PathBuf,
    /// The running process, if any.
    child: Option<Child>,
}

impl Service {
    /// Describes a service; nothing runs until [`Service::start`].
    pub fn new(name: &str, program: &Path, args: &[&str], cwd: &Path, log_path: &Path) -> Self {
        Service {
            name: name.to_owned(),
            program: program.to_owned(),
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            cwd: cwd.to_owned(),
            log_path: log_path.to_owned(),
            child: None,
        }
    }

    /// Adds an environment variable for every later start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Starts the process (after reaping a previous one), appending to the log.
    ///
    /// # Panics
    /// If the log cannot be opened or the program cannot be spawned.
    pub fn start(&mut self) {
        self.reap();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap_or_else(|e| panic!("opening log {}: {e}", self.log_path.display()));
        writeln!(log, "{START_MARKER} {} -----", self.name)
            .unwrap_or_else(|e| panic!("writing log {}: {e}", self.log_path.display()));
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cloning log handle {}: {e}", self.log_path.display()));
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {} ({}): {e}", self.name, self.program.display()));
        self.child = Some(child);
    }

    /// The process id while a process is running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `Some(status)` once the process has exited (reaping it), `None` while it runs or when
    /// none was started.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status)
            }
            Ok(None) | Err(_) => None,
        }
    }

    /// Whether a started process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.exited().is_none()
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.child.as_ref()?;
        wait_until(timeout, || self.exited())
    }

    /// SIGKILL, then reap. A no-op when nothing runs.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The process may have exited already; either way it is gone afterwards.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM (with the `kill` command) and waits up to `timeout` for the exit.
    /// `None` if it did not exit in time (it is still running then).
    ///
    /// # Panics
    /// If no process runs or the `kill` command cannot be run.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("terminate {}: it is not running", self.name));
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("running `kill -TERM {pid}`: {e}"));
        assert!(status.success(), "`kill -TERM {pid}` failed: {status}");
        self.wait_exit(timeout)
    }

    /// The whole log (every start), lossily decoded.
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// The log of the latest start only.
    pub fn last_run_log(&self) -> String {
        let log = self.log();
        match log.rfind(START_MARKER) {
            Some(at) => log[at..].to_owned(),
            None => log,
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn reap(&mut self) {
        if self.child.is_some() && self.exited().is_none() {
            panic!("start {}: the previous process is still running", self.name);
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!(
                "===== last {TAIL_LINES} log lines of {} ({}) =====\n{}\n===== end of {} log =====",
                self.name,
                self.log_path.display(),
                self.log_tail(TAIL_LINES),
                self.name
            );
        }
    }
}
