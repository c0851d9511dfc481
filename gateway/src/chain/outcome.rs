//! What the chain did with a batch ([`ChainOutcome`]), where the batch came from
//! ([`Origin`]) and which plugin failed on it ([`PluginFailure`]).

use crate::batch::{Batch, Context};
use crate::dead_letter::WriteOrigin;
use sluice_host::{HostError, Plugin};
use std::net::SocketAddr;

/// What the chain did with a batch.
#[derive(Debug)]
pub enum ChainOutcome {
    /// Append this (possibly rewritten) batch to the buffer.
    Forward(Batch),
    /// A plugin with `on_error = "dead-letter"` failed: keep the batch as it entered the
    /// chain in the dead-letter store.
    DeadLetter {
        /// The batch as it entered the chain.
        batch: Batch,
        /// Which plugin failed, and why.
        failure: PluginFailure,
    },
    /// A plugin with `on_error = "drop"` failed: the batch is discarded.
    Dropped {
        /// Points discarded.
        points: usize,
        /// Which plugin failed, and why.
        failure: PluginFailure,
    },
    /// A plugin said something it depends on is unavailable, and the client can retry:
    /// refuse the batch (503) rather than keep it.
    Unavailable(PluginFailure),
}

/// A plugin's failure on one batch, as logged and dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFailure {
    /// The plugin's name.
    pub plugin: String,
    /// sha256 of its component.
    pub sha256: Option<String>,
    /// Short failure kind (`timeout`, `trap`, …; see `HostError::kind`).
    pub kind: &'static str,
    /// The full error.
    pub error: String,
}

impl PluginFailure {
    /// The failure of `plugin` with `error`.
    pub fn new(plugin: &Plugin, error: &HostError) -> Self {
        Self {
            plugin: plugin.name().to_owned(),
            sha256: Some(plugin.sha256().to_owned()),
            kind: error.kind(),
            error: error.to_string(),
        }
    }
}

/// Where a batch came from, beyond its routing context: what a plugin sees of the write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client's address, when known.
    pub source: Option<SocketAddr>,
    /// The 2.x organisation of a `/api/v2/write`.
    pub org: Option<String>,
    /// The 2.x bucket of a `/api/v2/write`.
    pub bucket: Option<String>,
    /// Whether the sender can be told to retry (HTTP) or not (UDP, replay): decides
    /// whether a plugin's "unavailable" refuses the batch or takes `on_error`.
    pub client_retries: bool,
}

impl Origin {
    /// An HTTP client at `source`, which retries on 503.
    pub fn http(source: Option<SocketAddr>) -> Self {
        Self {
            source,
            client_retries: true,
            ..Self::default()
        }
    }

    /// What a dead-letter entry keeps of this origin.
    pub fn to_record(&self) -> WriteOrigin {
        WriteOrigin {
            client: self.source.map(|a| a.to_string()),
            org: self.org.clone(),
            bucket: self.bucket.clone(),
        }
    }

    /// The origin a dead-letter entry recorded; a replay cannot ask anyone to retry.
    pub fn from_record(record: &WriteOrigin) -> Self {
        Self {
            source: record.client.as_deref().and_then(|a| a.parse().ok()),
            org: record.org.clone(),
            bucket: record.bucket.clone(),
            client_retries: false,
        }
    }

    /// The plugin-facing context of a batch for `ctx` from this origin.
    pub fn host_context(&self, ctx: &Context) -> sluice_host::Context {
        sluice_host::Context {
            db: ctx.db.clone(),
            rp: ctx.rp.clone(),
            org: self.org.clone(),
            bucket: self.bucket.clone(),
            source: self.source.map(|a| a.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_origin_comes_back_without_retries() {
        let origin = Origin {
            source: "127.0.0.1:5000".parse().ok(),
            org: Some("acme".into()),
            bucket: Some("flood/raw".into()),
            client_retries: true,
        };
        let back = Origin::from_record(&origin.to_record());
        assert_eq!(
            back,
            Origin {
                client_retries: false,
                ..origin
            }
        );
        assert!(Origin::default().to_record().is_empty());
    }
}
