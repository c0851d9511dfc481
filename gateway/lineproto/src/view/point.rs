//! One point of a batch.

use super::escaped::{Context, Escaped};
use super::fields::{FieldValue, Fields};
use super::split::Split;
use super::tags::Tags;

/// One point of a canonical batch, borrowed from it. Reading it never allocates.
#[derive(Debug, Clone, Copy)]
pub struct Point<'a> {
    /// The line, without its line feed.
    line: &'a [u8],
    /// End of the measurement in `line`.
    measurement_end: usize,
    /// End of measurement and tags in `line` (the space before the fields).
    key_end: usize,
    /// End of the field set in `line` (the space before the timestamp).
    fields_end: usize,
    /// The timestamp in nanoseconds.
    timestamp: i64,
}

impl<'a> Point<'a> {
    /// A point from the sections found for the line at `start` of `batch`.
    pub(super) fn new(batch: &'a [u8], start: usize, s: &Split) -> Self {
        Self {
            line: batch.get(start..s.end).unwrap_or_default(),
            measurement_end: s.measurement_end - start,
            key_end: s.key_end - start,
            fields_end: s.fields_end - start,
            timestamp: s.timestamp,
        }
    }

    /// A part of the line (empty if out of bounds, which a scanned line never is).
    #[inline]
    fn part(&self, from: usize, to: usize) -> &'a [u8] {
        self.line.get(from..to).unwrap_or_default()
    }

    /// The whole line as written, without its line feed (to copy the point unchanged).
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// The measurement.
    pub fn measurement(&self) -> Escaped<'a> {
        Escaped::new(self.part(0, self.measurement_end), Context::Measurement)
    }

    /// Measurement and tags as written (the series key, without field key).
    pub fn key_raw(&self) -> &'a [u8] {
        self.part(0, self.key_end)
    }

    /// The tag set as written, without the leading comma (`k=v,k2=v2`; empty without tags).
    pub fn tags_raw(&self) -> &'a [u8] {
        self.part(self.measurement_end + 1, self.key_end)
    }

    /// The tags in the order written (duplicates included).
    #[inline]
    pub fn tags(&self) -> Tags<'a> {
        Tags::new(self.tags_raw())
    }

    /// The value of the first tag whose key is `key`.
    #[inline]
    pub fn tag(&self, key: &str) -> Option<Escaped<'a>> {
        self.tags().find_value(key.as_bytes())
    }

    /// The field set as written (`k=v,k2=v2`).
    pub fn fields_raw(&self) -> &'a [u8] {
        self.part(self.key_end + 1, self.fields_end)
    }

    /// The fields in the order written (duplicates included).
    pub fn fields(&self) -> Fields<'a> {
        Fields::new(self.fields_raw())
    }

    /// The value of the first field whose key is `key` (`None` also when that value is
    /// not valid line protocol, which a canonical batch never holds).
    pub fn field(&self, key: &str) -> Option<FieldValue<'a>> {
        self.fields()
            .find(|f| f.key().eq_bytes(key.as_bytes()))
            .and_then(|f| f.value())
    }

    /// The timestamp in nanoseconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The timestamp as written (canonical decimal), to copy it without formatting it
    /// again (see [`PointWriter::finish_raw`](crate::PointWriter::finish_raw)).
    pub fn timestamp_raw(&self) -> &'a [u8] {
        self.part(self.fields_end + 1, self.line.len())
    }
}
