//! [`Limits`]: what a write is checked against (tokens, body size, line-protocol rules),
//! swapped whole by a reload, read once per request.

use super::Tokens;
use super::query::QueryTarget;
use crate::config::Config;

/// The settings a reload applies to requests that start after it: `[server]`'s, and
/// where `/query` is proxied (the first output).
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Accepted tokens.
    pub tokens: Tokens,
    /// `[server] max_body`, bytes.
    pub max_body: usize,
    /// The line-protocol rules writes are checked against (`[server] accept_unsigned`).
    pub lineproto: sluice_lineproto::Options,
    /// Where non-CREATE queries are proxied: the first output, if it is an InfluxDB 1.x.
    pub query_target: Option<QueryTarget>,
}

impl Limits {
    /// The limits `config` sets.
    pub fn from_config(config: &Config) -> Self {
        Self {
            tokens: Tokens::new(config.server.tokens.clone()),
            max_body: config.server.max_body.as_usize(),
            lineproto: config.server.lineproto(),
            query_target: QueryTarget::from_config(config),
        }
    }
}
