//! End-to-end tests of the `sluice` binary against real `influxd` servers, one module per
//! area. Every test starts its own servers on free loopback ports, so they run in parallel.
//! Build the binary first (`cargo build --release`, or `tests/run.sh`); `SLUICE_BIN` points
//! at another one.

mod auth;
mod backpressure;
mod bench;
mod blob_s3;
mod config;
mod dead_letter;
mod differential;
mod durability;
mod edge;
mod errors;
mod flood;
mod forward;
mod harness;
mod hot_reload;
mod ingest;
mod kv_redis;
mod lifecycle;
mod plugin_cli;
mod plugins;
mod precision;
mod query;
mod redis_buffer;
mod store_refusals;
mod udp;
