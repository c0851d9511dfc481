//! The fields of a point and their typed values.

use super::escaped::{Context, Escaped};
use crate::scan::fields::{key_end, value_end};
use crate::scan::{FieldType, check_value};
use std::ops::Range;

/// A field value, typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A float (`1`, `-1.5`, `1e9`).
    Float(f64),
    /// A signed integer (`5i`).
    Integer(i64),
    /// An unsigned integer (`5u`).
    UInteger(u64),
    /// A boolean (`t`, `true`, `F`, ...).
    Boolean(bool),
    /// A string, without its quotes.
    String(Escaped<'a>),
}

impl<'a> FieldValue<'a> {
    /// Reads a value as written, `None` if it is not valid line protocol. A string is
    /// what 1.x reads: the bytes between the first and the last byte of the value (1.x
    /// keeps bytes after a closing quote in the value: `"a"x` is the string `a"`).
    fn parse(raw: &'a [u8]) -> Option<Self> {
        Some(match check_value(raw).ok()? {
            FieldType::String => {
                let inner = raw.get(1..raw.len() - 1).unwrap_or_default();
                Self::String(Escaped::new(inner, Context::Str))
            }
            FieldType::Boolean => Self::Boolean(matches!(raw.first(), Some(b't' | b'T'))),
            FieldType::Integer => Self::Integer(parse_i64(raw.get(..raw.len() - 1)?)),
            FieldType::Unsigned => Self::UInteger(parse_u64(raw.get(..raw.len() - 1)?)),
            FieldType::Float => Self::Float(parse_f64(raw)),
        })
    }

    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<Escaped<'a>> {
        match self {
            Self::String(s) => Some(*s),
            _ => None,
        }
    }
}

/// Parses checked digits with an optional `-` (wrapping is unreachable once checked).
fn parse_i64(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    // Accumulate negatively so that i64::MIN fits.
    let v = digits.iter().fold(0i64, |v, &c| {
        v.wrapping_mul(10)
            .wrapping_sub(i64::from(c.wrapping_sub(b'0')))
    });
    if negative { v } else { v.wrapping_neg() }
}

/// Parses checked digits.
fn parse_u64(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |v, &c| {
        v.wrapping_mul(10)
            .wrapping_add(u64::from(c.wrapping_sub(b'0')))
    })
}

/// Parses a checked float (the NaN fallback is unreachable once checked).
fn parse_f64(text: &[u8]) -> f64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// One field of a point.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The key as written.
    key: &'a [u8],
    /// The value as written (strings with their quotes).
    raw_value: &'a [u8],
}

impl<'a> Field<'a> {
    /// The key.
    pub fn key(&self) -> Escaped<'a> {
        Escaped::new(self.key, Context::FieldKey)
    }

    /// The value, typed: checked and parsed on each call, so that iterating fields to
    /// copy them costs nothing. `None` when the value is not valid line protocol, which
    /// a canonical batch never holds.
    pub fn value(&self) -> Option<FieldValue<'a>> {
        FieldValue::parse(self.raw_value)
    }

    /// The value as written: `1.50`, `5i`, `"a \"b\""` (with its quotes), to copy it.
    pub fn raw_value(&self) -> &'a [u8] {
        self.raw_value
    }
}

/// Iterator over the fields of a point, in the order written.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    /// The field set as written.
    raw: &'a [u8],
    /// Where the next field starts.
    pos: usize,
}

impl<'a> Fields<'a> {
    pub(super) fn new(raw: &'a [u8]) -> Self {
        Self { raw, pos: 0 }
    }
}

impl<'a> Fields<'a> {
    /// The next field and its end offset in the field set (its `,` or the set's end),
    /// split as 1.x stores fields (`walkFields`): the key up to the first `=` that no
    /// backslash precedes, the value up to the first `,` outside quotes.
    #[inline]
    pub(crate) fn next_with_end(&mut self) -> Option<(Field<'a>, usize)> {
        let raw = self.raw;
        let rest = raw.get(self.pos..).filter(|r| !r.is_empty())?;
        let eq = key_end(rest).min(rest.len());
        let (key, after) = rest.split_at(eq);
        let value = after.get(1..).unwrap_or_default();
        let raw_value = value.get(..value_end(value)).unwrap_or(value);
        let end = self.pos + key.len() + 1 + raw_value.len();
        self.pos = end + 1;
        Some((Field { key, raw_value }, end.min(raw.len())))
    }
}

impl<'a> Fields<'a> {
    /// The next field and where it is in the field set ([`Point::fields_raw`]): the
    /// range covers `key=value` as written, without the commas around it, so that a
    /// plugin can copy the fields it keeps in runs.
    ///
    /// ```
    /// let batch = b"m a=1i,s=\"x,y\",b=2 5\n";
    /// let p = sluice_lineproto::points(batch).next().unwrap()?;
    /// let mut fields = p.fields();
    /// fields.next();
    /// let (field, range) = fields.next_with_range().unwrap();
    /// assert_eq!(field.key(), "s");
    /// assert_eq!(&p.fields_raw()[range], b"s=\"x,y\"");
    /// # Ok::<(), sluice_lineproto::ViewError>(())
    /// ```
    ///
    /// [`Point::fields_raw`]: super::Point::fields_raw
    #[inline]
    pub fn next_with_range(&mut self) -> Option<(Field<'a>, Range<usize>)> {
        let start = self.pos;
        let (field, end) = self.next_with_end()?;
        Some((field, start.min(end)..end))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    #[inline]
    fn next(&mut self) -> Option<Field<'a>> {
        self.next_with_end().map(|(f, _)| f)
    }
}

impl std::iter::FusedIterator for Fields<'_> {}
