//! [`HostError`]: everything that can go wrong loading or running a plugin. Every variant
//! that concerns a plugin carries its name, so a log line or a dead-letter entry says
//! which plugin failed without more context.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Longest plugin-supplied text (error message, stderr) kept in an error.
const MAX_TEXT: usize = 2048;

/// Why a plugin could not be loaded or could not process a batch.
///
/// A plugin fault ([`Trap`](Self::Trap), [`Timeout`](Self::Timeout),
/// [`MemoryLimit`](Self::MemoryLimit)) never takes the process down: the instance that
/// faulted is dropped and the next call gets a fresh one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The engine could not be set up.
    #[error("cannot start the plugin engine: {message}")]
    Engine {
        /// What failed.
        message: String,
    },
    /// A file could not be read or written.
    #[error("plugin {plugin:?}: {path}: {source}")]
    Io {
        /// The plugin being loaded.
        plugin: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a WebAssembly component this engine can compile.
    #[error("plugin {plugin:?}: {path} is not a valid component: {message}")]
    Compile {
        /// The plugin being loaded.
        plugin: String,
        /// The `.wasm` file.
        path: PathBuf,
        /// The compiler's reason.
        message: String,
    },
    /// The component needs imports the host does not provide (it was not built for the
    /// `sluice:plugin/transform` world).
    #[error("plugin {plugin:?} does not fit the sluice:plugin/transform world: {message}")]
    Link {
        /// The plugin being loaded.
        plugin: String,
        /// What is missing or mismatched.
        message: String,
    },
    /// The plugin's `init` rejected its configuration.
    #[error("plugin {plugin:?} rejected its config: {message}")]
    Init {
        /// The plugin.
        plugin: String,
        /// The plugin's own message (truncated).
        message: String,
    },
    /// The plugin trapped (a panic, `unreachable`, an out-of-bounds access, …).
    /// Displayed cause first (`wasm trap: …`), then the plugin's stderr (a Rust panic's
    /// message), then the wasm backtrace, so that a one-line view (`sluice dlq list`)
    /// shows what happened.
    #[error(
        "plugin {plugin:?} trapped: {message}{}{}",
        stderr_suffix(stderr),
        backtrace_suffix(backtrace)
    )]
    Trap {
        /// The plugin.
        plugin: String,
        /// The trap (the root cause, e.g. `wasm trap: wasm \`unreachable\` instruction
        /// executed`).
        message: String,
        /// The end of what the plugin wrote to stderr during the call (a Rust panic
        /// message lands here), truncated.
        stderr: String,
        /// Where it trapped (wasmtime's wasm backtrace), truncated; empty if unknown.
        backtrace: String,
    },
    /// The call ran past the plugin's `timeout`.
    #[error("plugin {plugin:?} ran past its {after:?} timeout")]
    Timeout {
        /// The plugin.
        plugin: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The plugin tried to grow its memory past `max_memory`.
    #[error("plugin {plugin:?} exceeded its memory limit of {limit} bytes")]
    MemoryLimit {
        /// The plugin.
        plugin: String,
        /// The configured limit, in bytes.
        limit: u64,
    },
    /// The plugin returned an error for this batch.
    #[error("plugin {plugin:?} failed: {message}")]
    PluginError {
        /// The plugin.
        plugin: String,
        /// The plugin's message (truncated).
        message: String,
        /// The plugin said a dependency (`kv`, `blob`) was unavailable: the same batch
        /// may succeed later. `false`: the plugin rejected the batch itself.
        retryable: bool,
    },
    /// The plugin faulted [`FREE_RESTARTS`](crate::restarts::FREE_RESTARTS) times or more
    /// in a row, and no new instance starts until its backoff ends (see
    /// [`Plugin::restarts`](crate::Plugin::restarts)). Retryable: the same batch may
    /// succeed once the plugin runs again.
    #[error(
        "plugin {plugin:?} is backing off for {retry_in:?} after {faults} faults in a row (last: {last_fault})"
    )]
    Backoff {
        /// The plugin.
        plugin: String,
        /// Time left before a new instance may start.
        retry_in: Duration,
        /// Faults in a row.
        faults: u32,
        /// The last fault's message.
        last_fault: String,
    },
    /// The plugin's output is not valid line protocol.
    #[error("plugin {plugin:?} returned invalid line protocol: {reason}")]
    InvalidOutput {
        /// The plugin.
        plugin: String,
        /// The first bad line and why (InfluxDB's wording).
        reason: String,
    },
}

impl HostError {
    /// The plugin concerned, when there is one.
    ///
    /// ```
    /// let e = sluice_host::HostError::Init { plugin: "strip".into(), message: "no tags".into() };
    /// assert_eq!(e.plugin(), Some("strip"));
    /// ```
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Self::Engine { .. } => None,
            Self::Io { plugin, .. }
            | Self::Compile { plugin, .. }
            | Self::Link { plugin, .. }
            | Self::Init { plugin, .. }
            | Self::Trap { plugin, .. }
            | Self::Timeout { plugin, .. }
            | Self::MemoryLimit { plugin, .. }
            | Self::PluginError { plugin, .. }
            | Self::Backoff { plugin, .. }
            | Self::InvalidOutput { plugin, .. } => Some(plugin),
        }
    }

    /// A short, stable name of the failure, for metric labels: `engine`, `io`,
    /// `compile`, `link`, `init`, `trap`, `timeout`, `memory_limit`, `rejected`,
    /// `unavailable`, `backoff` or `invalid_output`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = sluice_host::HostError::Timeout { plugin: "p".into(), after: Duration::from_secs(1) };
    /// assert_eq!(e.kind(), "timeout");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Engine { .. } => "engine",
            Self::Io { .. } => "io",
            Self::Compile { .. } => "compile",
            Self::Link { .. } => "link",
            Self::Init { .. } => "init",
            Self::Trap { .. } => "trap",
            Self::Timeout { .. } => "timeout",
            Self::MemoryLimit { .. } => "memory_limit",
            Self::PluginError {
                retryable: false, ..
            } => "rejected",
            Self::PluginError {
                retryable: true, ..
            } => "unavailable",
            Self::Backoff { .. } => "backoff",
            Self::InvalidOutput { .. } => "invalid_output",
        }
    }

    /// Whether the same batch may succeed later: the plugin said something it depends
    /// on (`kv`, `blob`) is unavailable, or the plugin is backing off after faults.
    ///
    /// ```
    /// let e = sluice_host::HostError::PluginError {
    ///     plugin: "p".into(), message: "kv down".into(), retryable: true,
    /// };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::PluginError {
                retryable: true,
                ..
            } | Self::Backoff { .. }
        )
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(" (stderr: {stderr})")
    }
}

fn backtrace_suffix(backtrace: &str) -> String {
    if backtrace.is_empty() {
        String::new()
    } else {
        format!("; {backtrace}")
    }
}

/// `text` cut to at most [`MAX_TEXT`] bytes on a character boundary, keeping the start.
pub(crate) fn truncate_head(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `text` cut to at most [`MAX_TEXT`] bytes on a character boundary, keeping the end
/// (where a panic message is).
pub(crate) fn truncate_tail(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut start = text.len() - MAX_TEXT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_right_end_on_char_boundaries() {
        let long = "é".repeat(MAX_TEXT);
        let head = truncate_head(&long);
        assert!(head.ends_with('…') && head.len() <= MAX_TEXT + '…'.len_utf8());
        let tail = truncate_tail(&format!("{long}panicked: boom"));
        assert!(tail.starts_with('…') && tail.ends_with("panicked: boom"));
        assert_eq!(truncate_head("short"), "short");
    }

    #[test]
    fn trap_message_includes_stderr_only_when_present() {
        let e = HostError::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
            stderr: String::new(),
            backtrace: String::new(),
        };
        assert_eq!(e.to_string(), "plugin \"p\" trapped: unreachable");
        let e = HostError::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
            stderr: "panicked at boom".into(),
            backtrace: "wasm backtrace: 0: f".into(),
        };
        assert!(
            e.to_string()
                .ends_with("unreachable (stderr: panicked at boom); wasm backtrace: 0: f"),
            "{e}"
        );
    }
}
