//! The forward stage: one forwarder per `[[outputs]]`, each draining its own buffer
//! cursor (fan-out: every output gets every point), with batching, gzip, retries with
//! backoff and jitter, and a dead-letter store for what a store refuses (classified by
//! status and text; coalesced requests split so only the refused
//! client batches are kept there).

mod client;
mod coalesce;
mod compress;
mod health;
mod output;
mod outputs;
mod overlap;
mod piece;
mod refusal;
mod retry;

pub use client::{SendError, Sender, redacted_error, redacted_url};
pub use coalesce::{Request, coalesce};
pub use health::{OutputHealth, OutputReport};
pub use output::Forwarder;
pub use outputs::{Outputs, OutputsError, Shared};
pub use piece::Piece;
pub use refusal::{Class, Refusal, classify, error_message};
pub use retry::Backoff;

#[cfg(test)]
mod tests;
