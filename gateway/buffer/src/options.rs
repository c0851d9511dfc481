//! What the caller configures: where, how big, and who consumes.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::Error;
use crate::error::truncated;

/// Default segment size: 64 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 * 1024 * 1024;

/// Smallest `max_size` accepted; below it the segment and framing overhead dominate.
pub const MIN_MAX_SIZE: u64 = 4096;

/// Longest consumer name accepted (it becomes part of a file name).
const MAX_CONSUMER_NAME: usize = 128;

/// Options of the durable, on-disk queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskOptions {
    /// Directory holding segments, cursors and `LOCK`; created if missing.
    pub dir: PathBuf,
    /// Cap on retained segment bytes (headers and framing included); an append that would go
    /// past it fails with `Error::Full`.
    pub max_size: u64,
    /// A segment rolls over once it reaches this size. Clamped to `max_size / 4` so that
    /// acknowledged data is always freed in time for the queue to accept new records.
    pub segment_size: u64,
    /// One name per output; each keeps its own cursor. Names are used in file names, so they
    /// may only contain ASCII letters, digits, `-`, `_` and `.` (not leading).
    pub consumers: Vec<String>,
}

impl DiskOptions {
    /// Options with the default segment size.
    pub fn new(dir: impl Into<PathBuf>, max_size: u64, consumers: Vec<String>) -> Self {
        Self {
            dir: dir.into(),
            max_size,
            segment_size: DEFAULT_SEGMENT_SIZE,
            consumers,
        }
    }
}

/// Options of the in-memory queue (same semantics, no durability).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryOptions {
    /// Cap on the bytes of retained records.
    pub max_size: u64,
    /// One name per output; each keeps its own cursor.
    pub consumers: Vec<String>,
}

/// Checks the consumer list: non-empty, unique, each usable as part of a file name.
pub(crate) fn validate_consumers(names: &[String]) -> Result<(), Error> {
    if names.is_empty() {
        return Err(Error::InvalidOptions {
            reason: "no consumers configured (a record could never be acknowledged)".to_owned(),
        });
    }
    let mut seen = HashSet::new();
    for name in names {
        validate_consumer_name(name)?;
        if !seen.insert(name.as_str()) {
            return Err(Error::InvalidConsumerName {
                name: truncated(name),
                reason: "listed twice",
            });
        }
    }
    Ok(())
}

/// Checks that a consumer `name` may be added now: well-formed, the queue not `closed`,
/// and the name not `taken` by a consumer already there. Shared by both variants'
/// `add_consumer`.
pub(crate) fn validate_new_consumer(name: &str, closed: bool, taken: bool) -> Result<(), Error> {
    validate_consumer_name(name)?;
    if closed {
        return Err(Error::Closed);
    }
    if taken {
        return Err(Error::InvalidConsumerName {
            name: truncated(name),
            reason: "a consumer of that name already exists",
        });
    }
    Ok(())
}

/// Checks one consumer name.
pub(crate) fn validate_consumer_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_CONSUMER_NAME {
        Some("longer than 128 bytes")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("only ASCII letters, digits, '-', '_' and '.' are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidConsumerName {
            name: truncated(name),
            reason,
        }),
        None => Ok(()),
    }
}

/// Checks `max_size`.
pub(crate) fn validate_max_size(max_size: u64) -> Result<(), Error> {
    if max_size < MIN_MAX_SIZE {
        return Err(Error::InvalidOptions {
            reason: format!("max_size {max_size} is below the minimum of {MIN_MAX_SIZE} bytes"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_are_checked() {
        assert!(validate_consumers(&["central".into(), "backup-1".into()]).is_ok());
        assert!(validate_consumers(&[]).is_err());
        assert!(validate_consumers(&["a".into(), "a".into()]).is_err());
        for bad in ["", ".hidden", "a/b", "a b", &"x".repeat(200)] {
            assert!(validate_consumer_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn error_quotes_truncated_name() {
        let long = "é".repeat(100);
        let message = validate_consumer_name(&long).unwrap_err().to_string();
        assert!(message.contains('…'), "{message}");
        assert!(message.len() < 200, "{message}");
    }
}
