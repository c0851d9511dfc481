//! Writing canonical line protocol: [`LineWriter`] appends points to a buffer, built
//! field by field from plain text (escaped here) or from already-escaped bytes taken from
//! a [view](crate::view) (copied as they are).
//!
//! A point is only kept when [`PointWriter::finish`] succeeds. The builder writes
//! straight into the buffer and remembers its first mistake; `finish` then rolls the
//! point back and returns a [`WriteError`] for a point without fields, an empty or
//! unwritable name, a non-finite float, a tag after a field, a timestamp outside
//! InfluxDB's range, or what InfluxDB 1.x refuses: duplicate tag keys, a tag key `time`,
//! two fields with the same key and different types (a point dropped without `finish` is
//! rolled back too). Plain text is escaped the way 1.x unescapes it (see `escape.rs`):
//! names that 1.x cannot read back (ending with a backslash, holding a line feed) are
//! refused. This is a
//! runtime check rather than a type-state builder so that plugins can add tags and fields
//! in loops and conditionals; it costs one branch per call, and the buffer only ever
//! holds whole, valid points, which [`canonicalize`](crate::canonicalize()) returns
//! unchanged.
//!
//! The `_raw` methods and [`tags_from`](PointWriter::tags_from) /
//! [`fields_from`](PointWriter::fields_from) copy bytes as written in a batch, trusting
//! them to be escaped for their place (as the view gives them); only emptiness is
//! checked there. `tags_from` is the cheap way to copy a point minus some tags: each run
//! of kept tags is one copy.
//!
//! ```
//! use sluice_lineproto::{points, LineWriter};
//! let batch = b"cpu,host=a,dc=eu usage=0.5 1700000000000000000\n";
//! let mut out = LineWriter::new();
//! for point in points(batch) {
//!     let point = point?;
//!     let mut p = out.point_raw(point.measurement());
//!     for (k, v) in point.tags().filter(|(k, _)| *k != "host") {
//!         p.tag_raw(k, v);
//!     }
//!     p.fields_raw(point.fields_raw()).field_str("note", "copied, \"quoted\"");
//!     p.finish(point.timestamp())?;
//! }
//! assert_eq!(
//!     out.as_bytes(),
//!     b"cpu,dc=eu usage=0.5,note=\"copied, \\\"quoted\\\"\" 1700000000000000000\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod escape;

pub use error::{WRITE_EXCERPT, WriteError, WriteErrorKind};

use crate::canonicalize::{MAX_TIMESTAMP, MIN_TIMESTAMP};
use crate::decimal::Decimal;
use crate::view::escaped::Context;
use crate::view::{Escaped, Field, FieldValue, Point};
use escape::Place;
use std::io::Write as _;

/// A buffer of canonical line protocol being written.
#[derive(Debug, Clone, Default)]
pub struct LineWriter {
    /// The lines written so far.
    buf: Vec<u8>,
    /// How many points `buf` holds (those written through this writer).
    points: usize,
    /// Room for the field check of a finished point.
    scratch: crate::scan::Scratch,
}

impl LineWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        Self::from_vec(Vec::with_capacity(bytes))
    }

    /// A writer that appends to `buf` (which should hold whole lines, or nothing).
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Self {
            buf,
            points: 0,
            scratch: crate::scan::Scratch::default(),
        }
    }

    /// Starts a point with a plain measurement name (escaped here).
    pub fn point(&mut self, measurement: &str) -> PointWriter<'_> {
        let mut p = PointWriter::new(self);
        p.name(
            measurement.as_bytes(),
            &escape::MEASUREMENT,
            WriteErrorKind::EmptyMeasurement,
        );
        if let Some(b'#' | b'\t' | 0) = measurement.as_bytes().first() {
            p.fail(WriteErrorKind::InvalidMeasurement, measurement.as_bytes());
        }
        p.measurement_end = p.writer.buf.len();
        p
    }

    /// Starts a point with a measurement as written in a batch (see
    /// [`Point::measurement`] and [`Escaped::as_raw`](crate::Escaped::as_raw)).
    #[inline]
    pub fn point_raw(&mut self, measurement: impl AsRef<[u8]>) -> PointWriter<'_> {
        let mut p = PointWriter::new(self);
        p.raw(measurement.as_ref(), WriteErrorKind::EmptyMeasurement);
        p.measurement_end = p.writer.buf.len();
        p
    }

    /// Appends a line as written in a canonical batch (without its line feed; see
    /// [`Point::line`]), unchanged.
    #[inline]
    pub fn push_line(&mut self, line: &[u8]) {
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
        self.points += 1;
    }

    /// Appends a point of a batch unchanged.
    pub fn push_point(&mut self, point: &Point<'_>) {
        self.push_line(point.line());
    }

    /// Points written through this writer.
    pub fn points(&self) -> usize {
        self.points
    }

    /// The lines written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets everything written, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.points = 0;
    }

    /// The buffer.
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// Where a point being written is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Measurement and tags.
    Key,
    /// At least one field written.
    Fields,
}

/// One point being written; see [`LineWriter::point`]. Tags first, then fields, then
/// [`finish`](Self::finish). Dropped without `finish`, the point is discarded.
#[derive(Debug)]
#[must_use = "a point is discarded unless `finish` is called"]
pub struct PointWriter<'w> {
    /// The writer, whose buffer holds the point from `start` on.
    writer: &'w mut LineWriter,
    /// Where the point starts in the buffer.
    start: usize,
    /// Where its measurement ends in the buffer.
    measurement_end: usize,
    /// Where its key ends in the buffer (the space before the fields), once a field is
    /// written.
    key_end: usize,
    /// Whether a tag was written.
    tagged: bool,
    /// Whether a typed field was written (raw fields come from a checked batch).
    typed: bool,
    /// Whether the key has a space after an even run of backslashes (see
    /// `escape::has_split_space`): the finished line is then checked for an open quote.
    split_space: bool,
    /// Where the point is.
    section: Section,
    /// The first mistake, reported by `finish`.
    error: Option<WriteError>,
    /// Whether the point was finished (kept or rolled back already).
    done: bool,
}

impl<'w> PointWriter<'w> {
    fn new(writer: &'w mut LineWriter) -> Self {
        let start = writer.buf.len();
        Self {
            writer,
            start,
            measurement_end: start,
            key_end: start,
            tagged: false,
            typed: false,
            split_space: false,
            section: Section::Key,
            error: None,
            done: false,
        }
    }

    /// Records the first mistake.
    #[cold]
    fn fail(&mut self, kind: WriteErrorKind, input: &[u8]) {
        if self.error.is_none() {
            self.error = Some(WriteError::new(kind, input));
        }
    }

    /// Appends a plain name, escaped; records `empty` if it is empty.
    #[inline]
    fn name(&mut self, s: &[u8], place: &Place, empty: WriteErrorKind) {
        if s.is_empty() {
            self.fail(empty, s);
        } else {
            match escape::name(&mut self.writer.buf, s, place) {
                Ok(split) => self.split_space |= split,
                Err(kind) => self.fail(kind, s),
            }
        }
    }

    /// Appends escaped bytes as they are; records `empty` if they are empty.
    #[inline]
    fn raw(&mut self, s: &[u8], empty: WriteErrorKind) {
        if s.is_empty() {
            self.fail(empty, s);
        }
        if self.section == Section::Key {
            self.split_space |= escape::has_split_space(s);
        }
        self.writer.buf.extend_from_slice(s);
    }

    /// Starts a tag (`,`), or records that fields came first.
    #[inline]
    fn tag_separator(&mut self, key: &[u8]) -> bool {
        if self.section == Section::Fields {
            self.fail(WriteErrorKind::TagAfterField, key);
            return false;
        }
        self.writer.buf.push(b',');
        self.tagged = true;
        true
    }

    /// Adds a tag from plain text.
    pub fn tag(&mut self, key: &str, value: &str) -> &mut Self {
        if self.tag_separator(key.as_bytes()) {
            self.name(key.as_bytes(), &escape::TAG, WriteErrorKind::EmptyTagKey);
            self.writer.buf.push(b'=');
            self.name(
                value.as_bytes(),
                &escape::TAG,
                WriteErrorKind::EmptyTagValue,
            );
        }
        self
    }

    /// Adds a tag from escaped key and value as written in a batch (see [`Point::tags`]).
    #[inline]
    pub fn tag_raw(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let (key, value) = (key.as_ref(), value.as_ref());
        if self.tag_separator(key) {
            self.raw(key, WriteErrorKind::EmptyTagKey);
            self.writer.buf.push(b'=');
            self.raw(value, WriteErrorKind::EmptyTagValue);
        }
        self
    }

    /// Adds tags as written in a batch, `k=v,k2=v2` (see [`Point::tags_raw`]); nothing
    /// when empty.
    #[inline]
    pub fn tags_raw(&mut self, tags: &[u8]) -> &mut Self {
        if !tags.is_empty() && self.tag_separator(tags) {
            self.split_space |= escape::has_split_space(tags);
            self.writer.buf.extend_from_slice(tags);
        }
        self
    }

    /// Starts a field: the space before the first, a comma before the others.
    #[inline]
    fn field_separator(&mut self) {
        let sep = match self.section {
            Section::Key => {
                self.key_end = self.writer.buf.len();
                b' '
            }
            Section::Fields => b',',
        };
        self.writer.buf.push(sep);
        self.section = Section::Fields;
    }

    /// Starts a field with a plain key: separator, key, `=`.
    #[inline]
    fn field_key(&mut self, key: &str) {
        self.field_separator();
        self.typed = true;
        self.name(
            key.as_bytes(),
            &escape::FIELD_KEY,
            WriteErrorKind::EmptyFieldKey,
        );
        if key == "time" {
            self.fail(WriteErrorKind::FieldNamedTime, key.as_bytes());
        }
        if key.starts_with(['\t', '\0']) {
            self.fail(WriteErrorKind::InvalidFieldKey, key.as_bytes());
        }
        self.writer.buf.push(b'=');
    }

    /// Adds a float field; NaN and infinities are an error (line protocol has none).
    pub fn field_f64(&mut self, key: &str, value: f64) -> &mut Self {
        self.field_key(key);
        if !value.is_finite() {
            let text: &[u8] = match value {
                v if v.is_nan() => b"NaN",
                v if v > 0.0 => b"inf",
                _ => b"-inf",
            };
            self.fail(WriteErrorKind::NonFiniteFloat, text);
        }
        // Debug is the shortest text that reads back as the same f64, with an exponent
        // for very large or small values (`1e300`), which line protocol accepts.
        let _ = write!(self.writer.buf, "{value:?}");
        self
    }

    /// Adds a signed integer field (`5i`).
    pub fn field_i64(&mut self, key: &str, value: i64) -> &mut Self {
        self.field_key(key);
        self.writer
            .buf
            .extend_from_slice(Decimal::signed(value).as_bytes());
        self.writer.buf.push(b'i');
        self
    }

    /// Adds an unsigned integer field (`5u`).
    pub fn field_u64(&mut self, key: &str, value: u64) -> &mut Self {
        self.field_key(key);
        self.writer
            .buf
            .extend_from_slice(Decimal::unsigned(value).as_bytes());
        self.writer.buf.push(b'u');
        self
    }

    /// Adds a boolean field (`true`/`false`).
    pub fn field_bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.field_key(key);
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.writer.buf.extend_from_slice(text);
        self
    }

    /// Adds a string field from plain text (quoted and escaped here; line feeds are kept).
    pub fn field_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.field_key(key);
        self.writer.buf.push(b'"');
        escape::string(&mut self.writer.buf, value.as_bytes());
        self.writer.buf.push(b'"');
        self
    }

    /// Adds a field from a typed value read from a batch (a string value is copied as
    /// written, escapes included).
    pub fn field_value(&mut self, key: &str, value: FieldValue<'_>) -> &mut Self {
        match value {
            FieldValue::Float(v) => self.field_f64(key, v),
            FieldValue::Integer(v) => self.field_i64(key, v),
            FieldValue::UInteger(v) => self.field_u64(key, v),
            FieldValue::Boolean(v) => self.field_bool(key, v),
            FieldValue::String(s) => {
                self.field_key(key);
                self.writer.buf.push(b'"');
                self.writer.buf.extend_from_slice(s.as_raw());
                self.writer.buf.push(b'"');
                self
            }
        }
    }

    /// Adds a field from its key and value as written in a batch (see
    /// [`Field::key`](crate::Field::key) and [`Field::raw_value`](crate::Field::raw_value)).
    #[inline]
    pub fn field_raw(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.field_separator();
        self.raw(key, WriteErrorKind::EmptyFieldKey);
        self.writer.buf.push(b'=');
        self.raw(value, WriteErrorKind::EmptyFieldValue);
        self
    }

    /// Adds the tags of `point` for which `keep(key, value)` is true, copied as written:
    /// each run of kept tags in one copy. The way to copy a point minus some tags.
    pub fn tags_from(
        &mut self,
        point: &Point<'_>,
        mut keep: impl FnMut(Escaped<'_>, Escaped<'_>) -> bool,
    ) -> &mut Self {
        let raw = point.tags_raw();
        let mut tags = point.tags();
        let mut run: Option<(usize, usize)> = None;
        while let Some((start, key_end, end)) = tags.next_span() {
            let name = |from: usize, to: usize| {
                Escaped::new(raw.get(from..to).unwrap_or_default(), Context::Tag)
            };
            if keep(name(start, key_end), name(key_end + 1, end)) {
                run = Some((run.map_or(start, |(from, _)| from), end));
            } else if let Some((from, to)) = run.take() {
                self.tags_raw(raw.get(from..to).unwrap_or_default());
            }
        }
        if let Some((from, to)) = run {
            self.tags_raw(raw.get(from..to).unwrap_or_default());
        }
        self
    }

    /// Adds the fields of `point` for which `keep(field)` is true, copied as written:
    /// each run of kept fields in one copy.
    pub fn fields_from(
        &mut self,
        point: &Point<'_>,
        mut keep: impl FnMut(&Field<'_>) -> bool,
    ) -> &mut Self {
        let raw = point.fields_raw();
        let mut fields = point.fields();
        let mut run: Option<(usize, usize)> = None;
        let mut start = 0;
        while let Some((field, end)) = fields.next_with_end() {
            if keep(&field) {
                run = Some((run.map_or(start, |(from, _)| from), end));
            } else if let Some((from, to)) = run.take() {
                self.fields_raw(raw.get(from..to).unwrap_or_default());
            }
            start = end + 1;
        }
        if let Some((from, to)) = run {
            self.fields_raw(raw.get(from..to).unwrap_or_default());
        }
        self
    }

    /// Adds fields as written in a batch, `k=v,k2=v2` (see [`Point::fields_raw`]);
    /// nothing when empty.
    #[inline]
    pub fn fields_raw(&mut self, fields: &[u8]) -> &mut Self {
        if !fields.is_empty() {
            self.field_separator();
            self.writer.buf.extend_from_slice(fields);
        }
        self
    }

    /// Ends the point with its timestamp in nanoseconds and keeps it, or discards it and
    /// says what was wrong with it.
    pub fn finish(self, timestamp_ns: i64) -> Result<(), WriteError> {
        if !(MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&timestamp_ns) {
            let text = Decimal::signed(timestamp_ns);
            return self.end(Err(WriteErrorKind::TimeOutsideRange), text.as_bytes());
        }
        self.end(Ok(()), Decimal::signed(timestamp_ns).as_bytes())
    }

    /// Ends the point with a timestamp as written in a canonical batch (see
    /// [`Point::timestamp_raw`]), copied as it is, and keeps it (or discards it and says
    /// what was wrong with it).
    #[inline]
    pub fn finish_raw(self, timestamp: &[u8]) -> Result<(), WriteError> {
        let check = if timestamp.is_empty() {
            Err(WriteErrorKind::TimeOutsideRange)
        } else {
            Ok(())
        };
        self.end(check, timestamp)
    }

    /// Appends ` timestamp\n` and keeps the point, or rolls it back and reports the first
    /// mistake (`timestamp` is the offending input of `check`).
    #[inline]
    fn end(
        mut self,
        check: Result<(), WriteErrorKind>,
        timestamp: &[u8],
    ) -> Result<(), WriteError> {
        self.done = true;
        if self.error.is_none() && self.section == Section::Fields {
            self.check_refusals();
        }
        let error = match (self.error.take(), self.section, check) {
            (Some(e), _, _) => Some(e),
            (None, Section::Key, _) => Some(WriteError::new(
                WriteErrorKind::NoFields,
                self.writer.buf.get(self.start..).unwrap_or_default(),
            )),
            (None, Section::Fields, Err(kind)) => Some(WriteError::new(kind, timestamp)),
            (None, Section::Fields, Ok(())) => None,
        };
        if let Some(e) = error {
            self.writer.buf.truncate(self.start);
            return Err(e);
        }
        let buf = &mut self.writer.buf;
        buf.push(b' ');
        buf.extend_from_slice(timestamp);
        buf.push(b'\n');
        self.writer.points += 1;
        Ok(())
    }
}

impl PointWriter<'_> {
    /// Records what InfluxDB 1.x would refuse in the finished point: duplicate tag keys
    /// or a tag key `time` (`scanKey`, `tsdb/shard.go`), two fields with the same key and
    /// different types (the engine) when typed fields were written, and a line 1.x's
    /// line splitter would end elsewhere (`scanLine`).
    #[inline]
    fn check_refusals(&mut self) {
        let LineWriter { buf, scratch, .. } = &mut *self.writer;
        if self.tagged {
            let tags = buf
                .get(self.measurement_end + 1..self.key_end)
                .unwrap_or_default();
            let (duplicate, time) = crate::scan::dup::check_tags(tags);
            if duplicate || time {
                let kind = if duplicate {
                    WriteErrorKind::DuplicateTag
                } else {
                    WriteErrorKind::TagNamedTime
                };
                self.error = Some(WriteError::new(kind, tags));
                return;
            }
        }
        if self.typed {
            let fields = buf.get(self.key_end + 1..).unwrap_or_default();
            if fields.contains(&b',') && crate::scan::fields::conflicts(fields, scratch) {
                self.error = Some(WriteError::new(WriteErrorKind::FieldTypeConflict, fields));
                return;
            }
        }
        if self.split_space {
            let mut line = crate::scan::line::LineScan::default();
            let point = buf.get(self.start..).unwrap_or_default();
            line.feed(point);
            if !line.ends_cleanly() {
                self.error = Some(WriteError::new(WriteErrorKind::LineSplit, point));
            }
        }
    }
}

impl Drop for PointWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.writer.buf.truncate(self.start);
        }
    }
}

#[cfg(test)]
mod tests;
