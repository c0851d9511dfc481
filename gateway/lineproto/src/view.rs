//! A zero-copy view over canonical batches, for plugins.
//!
//! [`points`] walks a batch line by line. A batch comes out of
//! [`canonicalize`](crate::canonicalize()) or a [`LineWriter`](crate::LineWriter), so
//! the walk does not validate every byte again (that would cost as much as the
//! canonicaliser): it checks the structure that reading relies on (a measurement, an
//! unescaped space before the fields, closed string values, a single space before a
//! canonical nanosecond timestamp, the line feed right after it, no leading whitespace or
//! comment). A line without that structure becomes an [`Err`] item and the walk goes on
//! at the next line, so nothing here panics on any input. [`trusted_points`] walks a
//! batch known to be canonical (a plugin's input) the same way but checks even less: the
//! timestamp is taken as written and read only when asked for.
//!
//! Reading a [`Point`] never allocates: measurement, [`Tags`] and [`Fields`] are
//! [`Escaped`] text borrowed from the batch as written, split lazily when asked for. A
//! field value is checked and parsed when asked for ([`Field::value`]), and is `None` if
//! it is not valid line protocol (never the case in a canonical batch); tags are split
//! leniently (a tag without `=` reads as an empty value). A host that takes plugin output
//! runs it through the canonicaliser again (idempotent on canonical input), which catches
//! anything a plugin wrote wrong.
//!
//! ```
//! use sluice_lineproto::{points, FieldValue};
//! let batch = b"cpu,host=a\\ b,dc=eu usage=0.5,ok=true 1700000000000000000\n";
//! for point in points(batch) {
//!     let point = point?;
//!     assert_eq!(point.measurement(), "cpu");
//!     assert_eq!(point.tag("host").unwrap(), "a b");
//!     assert_eq!(point.field("usage"), Some(FieldValue::Float(0.5)));
//!     assert_eq!(point.timestamp(), 1_700_000_000_000_000_000);
//! }
//! # Ok::<(), sluice_lineproto::ViewError>(())
//! ```

mod error;
pub(crate) mod escaped;
mod fields;
mod point;
mod points;
mod split;
mod tags;

pub use error::{VIEW_EXCERPT, ViewError, ViewErrorKind};
pub use escaped::{Escaped, UnescapedBytes};
pub use fields::{Field, FieldValue, Fields};
pub use point::Point;
pub use points::{Points, points, trusted_points};
pub use tags::Tags;

#[cfg(test)]
mod tests;
