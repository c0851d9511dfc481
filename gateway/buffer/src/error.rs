//! The one error type of the buffer boundary.

use std::path::{Path, PathBuf};

use crate::Position;

/// Everything the buffer can refuse or fail with.
///
/// `Full` is backpressure (the gateway answers `503` with `Retry-After`), `RecordTooLarge` is a
/// request that can never succeed (`413`); the rest are configuration mistakes, programming
/// errors, or I/O failures that an operator has to look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record does not fit under `max_size` right now; space frees when every consumer has
    /// acknowledged the oldest segment.
    #[error(
        "buffer full: a {record}-byte record does not fit ({retained} of {max_size} bytes retained or reserved)"
    )]
    Full {
        /// Bytes the record would take, framing included.
        record: u64,
        /// Bytes already retained or reserved by appends in flight.
        retained: u64,
        /// The configured cap.
        max_size: u64,
    },
    /// The Redis stream holds `max_len` entries: the client must retry later (503).
    #[error("buffer full: stream {stream:?} holds {max_len} entries or more (max_len)")]
    StreamFull {
        /// The stream key.
        stream: String,
        /// The configured cap.
        max_len: u64,
    },
    /// Redis could not be reached, refused the command, or did not answer in time. For an
    /// append the entry may exist anyway (the reply was lost): the client is told to
    /// retry (503), and a retried batch may be delivered twice.
    #[error("buffer unavailable: {reason}")]
    Unavailable {
        /// What failed, naming the server.
        reason: String,
    },
    /// The record can never fit, however much the consumers acknowledge.
    #[error("record of {len} bytes is larger than the {max}-byte limit of this buffer")]
    RecordTooLarge {
        /// Length of the record.
        len: u64,
        /// Largest record this buffer accepts.
        max: u64,
    },
    /// Another process (or another open queue in this one) holds the directory's `LOCK`.
    #[error("buffer directory {dir:?} is locked by another process (LOCK held)")]
    Locked {
        /// The buffer directory.
        dir: PathBuf,
    },
    /// The options cannot describe a working queue.
    #[error("invalid buffer options: {reason}")]
    InvalidOptions {
        /// What is wrong, quoting the offending value.
        reason: String,
    },
    /// A consumer name that cannot be used as a cursor file name, or is listed twice.
    #[error("invalid consumer name {name:?}: {reason}")]
    InvalidConsumerName {
        /// The name, truncated.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// `Queue::consumer` was asked for a name that is not in the configured list.
    #[error("unknown consumer {name:?} (configured: {configured})")]
    UnknownConsumer {
        /// The name asked for, truncated.
        name: String,
        /// The configured names, comma-separated and truncated.
        configured: String,
    },
    /// `Queue::consumer` was asked for a name whose `Consumer` is still alive.
    #[error("consumer {name:?} is already in use (drop the other Consumer first)")]
    ConsumerBusy {
        /// The name, truncated.
        name: String,
    },
    /// An acknowledgement for a position this queue never handed out.
    #[error("ack of position {pos} is past the newest record {head}")]
    AckBeyondHead {
        /// The position acknowledged.
        pos: Position,
        /// The newest committed position.
        head: Position,
    },
    /// The queue was closed: no more appends, and nothing is left to read.
    #[error("the buffer is closed")]
    Closed,
    /// An earlier write or `fdatasync` failed; after a failed sync the page cache cannot be
    /// trusted, so the queue refuses appends until it is reopened (which re-reads the disk).
    #[error(
        "the buffer's writer failed and refuses appends until the buffer is reopened: {reason}"
    )]
    WriterFailed {
        /// The first failure, as text.
        reason: String,
    },
    /// A file system operation failed.
    #[error("buffer I/O error: {op} {path:?}: {source}")]
    Io {
        /// What was being done (`"open"`, `"fdatasync"`, …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the operation and path it came from.
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// A copy for fanning one failure out to every append of a group commit.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Io { op, path, source } => Self::Io {
                op,
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Self::WriterFailed { reason } => Self::WriterFailed {
                reason: reason.clone(),
            },
            other => Self::WriterFailed {
                reason: other.to_string(),
            },
        }
    }
}

/// Shortens user-supplied text quoted in an error message.
pub(crate) fn truncated(text: &str) -> String {
    const LIMIT: usize = 64;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
