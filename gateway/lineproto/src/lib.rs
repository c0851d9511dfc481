//! # sluice-lineproto
//!
//! InfluxDB line protocol for Sluice: a single-pass validating parser that writes
//! canonical line protocol (the gateway's hot path, budgeted at ≤ 200 ns per line), with
//! InfluxDB 1.x's rules and error messages. No dependencies, so plugins compiled to
//! `wasm32-wasip2` can use it too.
//!
//! # Layout
//!
//! - [`canonicalize`](mod@canonicalize): the validating canonicaliser and its [`Summary`].
//! - [`precision`]: the timestamp units of the v1 and v2 write APIs.
//! - [`error`]: why a line was rejected ([`ErrorKind`], [`LineError`]).

pub mod canonicalize;
pub mod error;
pub mod precision;

pub use canonicalize::{Summary, canonicalize};
pub use error::{ErrorKind, LineError};
pub use precision::Precision;
