//! One point of a batch.

use super::escaped::{Context, Escaped};
use super::fields::{FieldValue, Fields};
use super::split::{Split, timestamp};
use super::tags::Tags;
use crate::scan::swar;

/// One point of a canonical batch, borrowed from it. Reading it never allocates.
#[derive(Debug, Clone, Copy)]
pub struct Point<'a> {
    /// The line, without its line feed.
    line: &'a [u8],
    /// Byte offset of the line in the batch.
    offset: usize,
    /// End of the measurement in `line`.
    measurement_end: usize,
    /// End of measurement and tags in `line` (the space before the fields).
    key_end: usize,
    /// End of the field set in `line` (the space before the timestamp).
    fields_end: usize,
}

impl<'a> Point<'a> {
    /// A point from the sections found for the line at `start` of `batch`.
    pub(super) fn new(batch: &'a [u8], start: usize, s: &Split) -> Self {
        Self {
            line: batch.get(start..s.end).unwrap_or_default(),
            offset: start,
            measurement_end: s.measurement_end - start,
            key_end: s.key_end - start,
            fields_end: s.fields_end - start,
        }
    }

    /// A part of the line (empty if out of bounds, which a scanned line never is).
    #[inline]
    fn part(&self, from: usize, to: usize) -> &'a [u8] {
        self.line.get(from..to).unwrap_or_default()
    }

    /// The whole line as written, without its line feed (to copy the point unchanged).
    #[inline]
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// Byte offset of the line in the batch it was read from, so that a plugin can copy
    /// runs of unchanged lines (and parts of lines) straight from the batch.
    ///
    /// ```
    /// let batch = b"a v=1 1\nbb v=2 2\n";
    /// let second = sluice_lineproto::points(batch).nth(1).unwrap()?;
    /// assert_eq!(second.offset(), 8);
    /// assert_eq!(&batch[second.offset()..][..second.line().len()], second.line());
    /// # Ok::<(), sluice_lineproto::ViewError>(())
    /// ```
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The measurement.
    #[inline]
    pub fn measurement(&self) -> Escaped<'a> {
        Escaped::new(self.part(0, self.measurement_end), Context::Measurement)
    }

    /// Measurement and tags as written (the series key, without field key).
    #[inline]
    pub fn key_raw(&self) -> &'a [u8] {
        self.part(0, self.key_end)
    }

    /// The tag set as written, without the leading comma (`k=v,k2=v2`; empty without tags).
    #[inline]
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
    #[inline]
    pub fn fields_raw(&self) -> &'a [u8] {
        self.part(self.key_end + 1, self.fields_end)
    }

    /// The fields in the order written (duplicates included).
    #[inline]
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

    /// The timestamp in nanoseconds since the Unix epoch, read from the line when asked
    /// for (a point from [`trusted_points`](super::trusted_points) whose timestamp is not
    /// a canonical `i64`, which a canonical batch never holds, reads as 0).
    #[inline]
    pub fn timestamp(&self) -> i64 {
        let raw = self.timestamp_raw();
        let (negative, digits) = match raw.split_first() {
            Some((b'-', digits)) => (true, digits),
            _ => (false, raw),
        };
        match swar::decimal(digits, 0) {
            (end, magnitude) if end == digits.len() && end > 0 => {
                timestamp(negative, magnitude).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// The timestamp as written (canonical decimal), to copy it without formatting it
    /// again (see [`PointWriter::finish_raw`](crate::PointWriter::finish_raw)).
    #[inline]
    pub fn timestamp_raw(&self) -> &'a [u8] {
        self.part(self.fields_end + 1, self.line.len())
    }
}
