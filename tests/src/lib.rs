//! End-to-end harness for Sluice: a real `influxd` and the real `sluice` binary, each on free
//! loopback ports in its own temporary directory, killed in `Drop`, its log printed when the
//! test that owns it fails.
//!
//! # Layout
//!
//! - [`influxd`] — [`TestInflux`]: an InfluxDB 1.x server that can be stopped and started again
//!   on the same port and data (a store outage), queried point by point.
//! - [`sluice`] — [`TestSluice`]: `sluice run -c …` from a config text with `{port}` and `{dir}`
//!   placeholders; write, kill -9, SIGTERM, restart. [`binary`] finds the executable and runs
//!   one-shot commands such as `sluice check`.
//! - [`config`] — [`SluiceConfig`], a builder for the usual relay configuration.
//! - [`http`] — a blocking HTTP client and the [`Request`]/[`Response`] the tests use.
//! - [`lines`] — [`Point`], its line-protocol encoding with every escape, and the generated
//!   loads ([`flood_points`], [`mixed_points`], [`escaped_lines`]).
//! - [`series`] — InfluxQL JSON results back into [`Point`]s, and point-set comparison.
//! - [`plugins`] — [`plugin_wasm`]: the built plugin components.
//! - [`redis`] — [`TestRedis`]: a real `redis-server`, stopped and started for outages,
//!   with `INFO commandstats` to count round trips.
//! - [`s3`] — [`TestS3`]: a real S3-compatible server (moto), paused for outages.
//! - [`outage`] — [`write_through_outage`]: a writer kept going while a backend goes
//!   down and returns; [`assert_all_stored`]: no acknowledged point lost.
//! - [`metrics`] — reading values out of the Prometheus text of `/metrics`.
//! - [`lp_fuzz`] — [`fuzz_lines`]: seeded, hostile line protocol for differential tests;
//!   [`snapshot`] — everything a database stores, comparable whole.
//! - [`buffer_files`] — the on-disk buffer's files, for crash-recovery tests.
//! - [`raw_http`] — [`RawHttp`], a bare HTTP/1.1 client for answers `reqwest` refuses.
//! - [`process`] — child processes with a log file; [`ports`] — free loopback ports;
//!   [`wait`] — [`wait_until`], the only way the tests wait.

pub mod binary;
pub mod buffer_files;
pub mod config;
pub mod http;
pub mod influxd;
pub mod lines;
pub mod lp_fuzz;
pub mod metrics;
pub mod outage;
pub mod plugins;
pub mod ports;
pub mod process;
pub mod raw_http;
pub mod redis;
pub mod s3;
pub mod series;
pub mod sluice;
pub mod snapshot;
pub mod wait;

pub use binary::{CommandOutput, run_command, sluice_bin, sluice_command, workspace_root};
pub use config::SluiceConfig;
pub use http::{Http, Request, Response, gzip};
pub use influxd::TestInflux;
pub use lines::{
    FieldValue, Point, escaped_lines, flood_lines, flood_points, mixed_points, now_ns, to_lines,
};
pub use lp_fuzz::{XorShift, fuzz_lines};
pub use metrics::metric_sum;
pub use outage::{assert_all_stored, write_through_outage};
pub use plugins::plugin_wasm;
pub use ports::{dead_url, free_tcp_port, free_udp_port};
pub use raw_http::{RawHttp, RawResponse};
pub use redis::TestRedis;
pub use s3::TestS3;
pub use series::{assert_subset, diff_summary};
pub use sluice::{SluiceBuilder, TestSluice};
pub use snapshot::{Snapshot, differences, snapshot};
pub use wait::{LONG, wait_until};
