//! What edge mode and `[merge]` share: windows aligned to the wall clock, the mergeable
//! quantile sketch, and the shape of a sketch point on the wire.
//!
//! # Layout
//!
//! - [`window`]: [`Window`], a window of a point's timestamp, aligned to multiples of its
//!   length since the Unix epoch, and how its length is spelled in the `sluice_window` tag.
//! - [`sketch`]: [`Sketch`], a DDSketch (Masson, Rim, Lee, VLDB 2019) with relative
//!   accuracy bound, nearest-rank quantiles and a text encoding.
//! - [`wire`]: writing a series' window summary (count, sum, min, max, mean, `pNN`,
//!   optionally the sketch) and recognising the sketches in a point.

pub mod sketch;
pub mod window;
pub mod wire;

pub use sketch::{Sketch, SketchError};
pub use window::Window;
pub use wire::{Quantile, SeriesKey};
