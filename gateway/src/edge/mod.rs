//! Edge mode (`[edge]`, DESIGN §3): on a load generator, each window of points is
//! aggregated per series into count, sum, min, max, mean, percentiles and a mergeable
//! sketch, and only those summaries go on to the buffer and the relay.
//!
//! # Layout
//!
//! - [`aggregate`]: [`Aggregator`], the open windows and what a batch and a flush do to
//!   them.
//!
//! # Rules
//!
//! * A point belongs to the window of its timestamp ([`crate::quantile::Window`]), so the
//!   windows of every node line up; the summary is stamped with the window's start.
//! * A window is written once the wall clock passes its end plus `allowed_lateness`. A
//!   point for a window already written (or due) is late: dropped and counted in
//!   `sluice_edge_points_dropped_total{reason="late"}`. A point stamped more than one
//!   window ahead of the clock is dropped as `future`.
//! * The fields aggregated are `fields` (default: every float or integer field). A point
//!   without any of them (only strings or booleans, say an annotation) is forwarded as it
//!   is, and so is a point that already is a summary (`sluice_window` tag); other fields
//!   of an aggregated point are not forwarded.
//! * At most `max_series` series per window; points of further series are dropped and
//!   counted as `max_series`, and the first of a window is logged. At most
//!   `allowed_lateness / window + 2` windows are open at once, so at most that many times
//!   `max_series` series are held. Each series holds one sketch per field: at most 2,048
//!   buckets (8 bytes each) per sign, a few KiB for a typical latency distribution.
//! * What is aggregated lives in memory until its window is written: a crash loses the
//!   open windows (as the memory buffer loses what it holds). A graceful shutdown writes
//!   the open windows first.

pub mod aggregate;

pub use aggregate::{Aggregator, Ingested};
