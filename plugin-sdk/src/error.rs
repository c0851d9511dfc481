//! Errors a plugin returns ([`PluginError`]) and receives from the host
//! ([`CapabilityError`]).

use std::fmt;

use sluice_lineproto::{ViewError, WriteError};

/// Why a plugin could not process a batch (the WIT `plugin-error`). The gateway sends the
/// batch down the chain's `on_error` path (dead-letter by default) with this message.
///
/// `?` converts the errors a plugin meets: a line the view cannot read or a point the
/// writer refuses becomes [`Rejected`](Self::Rejected), a failed host call becomes
/// [`Unavailable`](Self::Unavailable).
///
/// ```
/// use sluice_plugin_sdk::{CapabilityError, PluginError};
/// let e: PluginError = CapabilityError::new("redis: connection refused").into();
/// assert_eq!(e, PluginError::Unavailable("redis: connection refused".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The batch cannot be processed; trying it again would fail the same way.
    Rejected(String),
    /// Something the plugin depends on (a `kv` or `blob` call) failed; the same batch
    /// may succeed later.
    Unavailable(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(m) => write!(f, "rejected: {m}"),
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

impl From<ViewError> for PluginError {
    fn from(e: ViewError) -> Self {
        Self::Rejected(e.to_string())
    }
}

impl From<WriteError> for PluginError {
    fn from(e: WriteError) -> Self {
        Self::Rejected(e.to_string())
    }
}

impl From<CapabilityError> for PluginError {
    fn from(e: CapabilityError) -> Self {
        Self::Unavailable(e.0)
    }
}

/// A host call (`kv`, `blob`) failed; the text is the host's message.
///
/// ```
/// let e = sluice_plugin_sdk::CapabilityError::new("invalid key \"\": empty");
/// assert_eq!(e.to_string(), "invalid key \"\": empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityError(pub String);

impl CapabilityError {
    /// An error with this message.
    ///
    /// ```
    /// let e = sluice_plugin_sdk::CapabilityError::new("down");
    /// assert_eq!(e.0, "down");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CapabilityError {}
