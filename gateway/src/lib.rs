//! # Sluice
//!
//! An InfluxDB-compatible metrics gateway: clients write line protocol exactly as to
//! InfluxDB; each batch runs through a chain of WebAssembly plugins, is made durable in a
//! buffer, and is forwarded to one or more stores.
//!
//! # Layout
//!
//! The four stages, each a module with one-way dependencies:
//! [`ingest`] (HTTP and UDP endpoints, parsing into canonical line protocol) →
//! [`chain`] (WebAssembly plugins, run by crate `sluice-host`) → [`buffer`] (durable
//! queue, crate `sluice-buffer`) →
//! [`forward`] (one forwarder per output: coalescing, gzip, retries, dead-lettering).
//! [`pipeline`] is the path from a parsed [`batch`] to the buffer that HTTP and UDP share;
//! between chain and buffer it may run a [`stage`]: [`edge`] aggregation into windowed
//! quantile sketches on a load generator, or [`merge`] of those sketches on a relay
//! (both built on [`quantile`]);
//! [`app`] wires the stages together and owns shutdown; [`reload`] swaps in a new chain
//! and limits without a restart. Beside them: [`config`] (the TOML
//! contract), [`dead_letter`] (what could not be delivered or transformed, kept for
//! [`replay`]),
//! [`statement`] (statements that travel through the buffer to every output in order
//! with the writes) and [`statement_answers`] (the store's answers to them, for the
//! request that waits),
//! [`telemetry`] (metrics, logs and the events that feed both), [`cli`], [`shutdown`], and [`loadgen`] (`sluice bench`).

pub mod app;
pub mod batch;
pub mod buffer;
pub mod chain;
pub mod cli;
pub mod config;
pub mod dead_letter;
pub mod edge;
pub mod forward;
pub mod ingest;
pub mod loadgen;
pub mod merge;
pub mod pipeline;
pub mod point_lines;
pub mod quantile;
pub mod refusing;
pub mod reload;
pub mod replay;
pub mod shutdown;
pub mod stage;
pub mod statement;
pub mod statement_answers;
pub mod telemetry;
