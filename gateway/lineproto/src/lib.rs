//! # sluice-lineproto
//!
//! InfluxDB line protocol for Sluice. The gateway validates each request once and keeps
//! its canonical form (one point per line, one space between sections, nanosecond
//! timestamps always present); plugins read that form through a zero-copy view and write
//! their output with a writer that produces the same form. No dependencies, so plugins
//! compiled to `wasm32-wasip2` use it too.
//!
//! # Layout
//!
//! - [`canonicalize`](mod@canonicalize): the validating canonicaliser (the gateway's hot
//!   path), its [`Options`] and its [`Summary`].
//! - `scan` (private): the validating scanner of a point, a port of InfluxDB 1.x's parser
//!   (`models/points.go`) and of the checks its store makes, and `scan::stops`, the
//!   search for the first byte of a small set (sixteen bytes per step with SIMD, eight
//!   with SWAR) shared with the view.
//! - [`precision`]: the timestamp units of the v1 and v2 write APIs.
//! - [`error`]: why a line was rejected ([`ErrorKind`], [`LineError`]).
//! - [`view`]: [`points`] over a canonical batch, yielding [`Point`]s whose measurement,
//!   [`Tags`], [`Fields`] and timestamp borrow from the batch ([`Escaped`] text); it
//!   checks structure only, trusting the batch to be canonical; [`trusted_points`]
//!   checks less still, for plugin input (the gateway canonicalised it).
//! - [`writer`]: [`LineWriter`], which builds canonical lines from plain or
//!   already-escaped input.
//! - [`excerpt`]: the inline quote of offending input that errors carry.
//! - `decimal` (private): integer formatting without allocation.

pub mod canonicalize;
mod decimal;
pub mod error;
pub mod excerpt;
pub mod precision;
mod scan;
pub mod view;
pub mod writer;

pub use canonicalize::{
    MAX_TIMESTAMP, MIN_TIMESTAMP, Options, Summary, canonicalize, canonicalize_with,
};
pub use error::{ErrorKind, LINE_EXCERPT, LineError, NAME, Name, QUOTE, Quote};
pub use excerpt::Excerpt;
pub use precision::Precision;
pub use scan::value::FieldType;
pub use view::{
    Escaped, Field, FieldValue, Fields, Point, Points, Tags, UnescapedBytes, VIEW_EXCERPT,
    ViewError, ViewErrorKind, points, trusted_points,
};
pub use writer::{LineWriter, PointWriter, WRITE_EXCERPT, WriteError, WriteErrorKind};
