//! How `redb`'s errors surface as [`CapabilityError`]s, naming the database file.

use std::io;
use std::path::Path;

use crate::caps::CapabilityError;

/// `err`, from any `redb` call on the database at `path`, as a capability error:
///
/// - another process (or another handle in this one) has the file open:
///   [`CapabilityError::Locked`];
/// - the file is damaged, or in a format this build's `redb` does not open:
///   [`CapabilityError::Corrupt`];
/// - anything else (I/O, a poisoned transaction, ...): [`CapabilityError::Io`].
pub(super) fn storage_error(path: &Path, err: impl Into<redb::Error>) -> CapabilityError {
    let path = path.to_owned();
    match err.into() {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            CapabilityError::Locked { path }
        }
        redb::Error::Corrupted(reason) => CapabilityError::Corrupt { path, reason },
        redb::Error::UpgradeRequired(version) => CapabilityError::Corrupt {
            path,
            reason: format!("a redb file of format {version}, which this build does not open"),
        },
        // How redb reports a file that is not a redb database ("magic number mismatch").
        redb::Error::Io(source) if source.kind() == io::ErrorKind::InvalidData => {
            CapabilityError::Corrupt {
                path,
                reason: source.to_string(),
            }
        }
        redb::Error::Io(source) => CapabilityError::Io { path, source },
        other => CapabilityError::Io {
            path,
            source: io::Error::other(other.to_string()),
        },
    }
}

/// `.at(path)` on the result of a `redb` call: its error as a capability error on the
/// database at `path` (see [`storage_error`]).
pub(super) trait At<T> {
    /// This result, its error mapped by [`storage_error`].
    fn at(self, path: &Path) -> Result<T, CapabilityError>;
}

impl<T, E: Into<redb::Error>> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, CapabilityError> {
        self.map_err(|e| storage_error(path, e))
    }
}
