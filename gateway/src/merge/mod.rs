//! The relay side of edge mode (`[merge]`, DESIGN §3): the sketch points edges send are
//! merged per window and per series without the node tag, and when a window closes the
//! relay writes the cross-node count, sum, min, max, mean and percentiles — computed from
//! the merged sketch, never averaged. Every other point passes through untouched.
//!
//! # Layout
//!
//! - [`merger`]: [`Merger`], the windows being merged and what a batch and a flush do to
//!   them.
//! - [`journal`]: [`MergeJournal`], the windows on disk, so that a restart or a crash
//!   loses none.
//!
//! # Rules
//!
//! * A sketch point is one with a `sluice_window` tag and `F_sketch` fields
//!   ([`crate::quantile::wire`]). Its series is its measurement and tags without
//!   `drop_tags` (default `["node"]`) and without `sluice_window`; its window is its
//!   timestamp and `sluice_window`.
//! * A window closes `lateness` after its end, or after its first sketch arrived when
//!   that is later (an edge that was cut off delivers old windows: they still merge).
//!   The merged point has the sketch point's shape: `F_count`, `F_sum`, `F_min`,
//!   `F_max`, `F_mean`, `F_pNN`, the tags of the series and `sluice_window`, stamped
//!   with the window start; with `emit_sketches` also `F_sketch`, so that another relay
//!   can merge again.
//! * `rollups` (e.g. `["1m"]`): every sketch is also merged into the longer window that
//!   holds its window's start, written as its own point (`sluice_window=1m`) when that
//!   window closes — per-minute percentiles from the same sketches, exact to the same
//!   accuracy. Roll-ups are held, bounded and corrected like any window.
//! * After closing, a window is kept for `keep`: a sketch that arrives meanwhile is merged
//!   and the point written again, complete (same series and timestamp: the store
//!   overwrites it). A sketch for a window that ended no later than the latest window
//!   forgotten is dropped and counted as `late` — writing it alone could overwrite a
//!   complete point with part of it.
//! * At most `max_series` (series, window) pairs are held: written windows are forgotten
//!   before `keep` is over to make room, the soonest due first; sketches that would open
//!   a window beyond it are dropped and counted.
//! * Merge state survives restarts and crashes ([`journal`]): a batch with sketch points
//!   is journaled and synced before it is acknowledged, and a new relay on the same
//!   directory takes the windows back — written ones still kept for corrections, open
//!   ones written after the start.

pub mod journal;
pub mod merger;

pub use journal::{MergeJournal, Restored};
pub use merger::{Merged, Merger, Snapshot};
