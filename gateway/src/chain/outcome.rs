//! What the chain did with a batch ([`ChainOutcome`]), which plugin failed on it
//! ([`PluginFailure`]), whether its sender can send it again ([`Resend`]), and the
//! context a plugin sees ([`host_context`]).

use crate::batch::{Batch, Context, Origin};
use sluice_host::{HostError, Plugin};

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

/// Whether whoever sent a batch can be asked to send it again: decides whether a
/// plugin's "unavailable" refuses the batch or takes the plugin's `on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// An HTTP client: a 503 makes it retry.
    Possible,
    /// A UDP sender, or a replay: nobody to ask.
    Impossible,
}

/// The plugin-facing context of a batch routed by `ctx` from `origin`.
pub fn host_context(ctx: &Context, origin: &Origin) -> sluice_host::Context {
    sluice_host::Context {
        db: ctx.db.clone(),
        rp: ctx.rp.clone(),
        org: origin.org.clone(),
        bucket: origin.bucket.clone(),
        source: origin.client.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_context_joins_routing_and_origin() {
        let ctx = Context::from_bucket("flood/raw");
        let origin = Origin {
            client: Some("127.0.0.1:5000".into()),
            org: Some("acme".into()),
            bucket: Some("flood/raw".into()),
        };
        let host = host_context(&ctx, &origin);
        assert_eq!(
            (host.db.as_str(), host.rp.as_deref()),
            ("flood", Some("raw"))
        );
        assert_eq!(host.source.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(host.org.as_deref(), Some("acme"));
        assert_eq!(host.bucket.as_deref(), Some("flood/raw"));
    }
}
