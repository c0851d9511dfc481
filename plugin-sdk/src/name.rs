//! [`Name`]: a tag or field key from a plugin's config, matched against keys as written
//! in a batch, and spelled as line protocol. Escapes follow InfluxDB 1.x and differ by
//! place, so a name is escaped by the SDK's own [`LineWriter`] and compared through the
//! SDK's own unescaping: a plugin never hand-rolls either.

use crate::{Batch, Escaped, LineWriter, Point, WriteError};
use std::fmt;

/// Why a name cannot be spelled as a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// No line can hold it (empty, too long, `time` as a field key, …): the writer's
    /// error.
    Write(WriteError),
    /// The writer's line did not read back with the key (a bug in the SDK).
    ReadBack,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Write(e) => e.fmt(f),
            Self::ReadBack => f.write_str("the writer's line reads back without the key"),
        }
    }
}

impl std::error::Error for NameError {}

/// A key from the config, compared with keys as written in a batch.
///
/// ```
/// use sluice_plugin_sdk::{Batch, Name};
/// let batch = Batch::new(b"m,a\\ b=1,node=n1 v=1 1\n");
/// let point = batch.points().next().unwrap()?;
/// let keys: Vec<_> = point.tags().map(|(k, _)| k).collect();
/// assert!(Name::new("a b").matches(keys[0]));
/// assert!(Name::new("node").matches(keys[1]));
/// assert_eq!(Name::new("a b").tag_key()?, b"a\\ b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The key, unescaped.
    text: String,
    /// Whether `text` has no byte that some place escapes or that starts an escape (`,`,
    /// `=`, space, `"`, backslash): such a key matches exactly when the key as written is
    /// the same bytes, without unescaping it.
    plain: bool,
}

impl Name {
    /// A name, unescaped (as it appears in the config).
    pub fn new(text: &str) -> Self {
        Self {
            plain: !text
                .bytes()
                .any(|c| matches!(c, b',' | b'=' | b' ' | b'"' | b'\\')),
            text: text.to_owned(),
        }
    }

    /// The name, unescaped.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `key` (as written in the batch) is this name.
    #[inline]
    pub fn matches(&self, key: Escaped<'_>) -> bool {
        if self.plain {
            key.as_raw() == self.text.as_bytes()
        } else {
            key == self.text.as_str()
        }
    }

    /// The name spelled as a tag key (escaped as the writer escapes it).
    ///
    /// Errors: [`NameError::Write`] when no line can hold it as a tag key.
    pub fn tag_key(&self) -> Result<Vec<u8>, NameError> {
        written(
            |line| {
                let mut p = line.point("m");
                p.tag(&self.text, "v").field_bool("f", true);
                p.finish(0)
            },
            |point| point.tags().next().map(|(k, _)| k.as_raw().to_vec()),
        )
    }

    /// The name spelled as a field key (escaped as the writer escapes it).
    ///
    /// Errors: [`NameError::Write`] when no line can hold it as a field key (`time`).
    pub fn field_key(&self) -> Result<Vec<u8>, NameError> {
        written(
            |line| {
                let mut p = line.point("m");
                p.field_bool(&self.text, true);
                p.finish(0)
            },
            |point| point.fields().next().map(|f| f.key().as_raw().to_vec()),
        )
    }
}

/// Writes a one-point line with the SDK's writer and reads a part of it back.
fn written<T>(
    write: impl FnOnce(&mut LineWriter) -> Result<(), WriteError>,
    read: impl FnOnce(&Point<'_>) -> Option<T>,
) -> Result<T, NameError> {
    let mut line = LineWriter::new();
    write(&mut line).map_err(NameError::Write)?;
    let bytes = line.into_inner();
    let batch = Batch::new(&bytes);
    let point = batch.points().next().and_then(Result::ok);
    point.as_ref().and_then(read).ok_or(NameError::ReadBack)
}

/// Appends unescaped bytes as the inside of a string field value: `"` and backslash
/// escaped, the only escapes of a string value (InfluxDB 1.x line protocol).
///
/// ```
/// let mut out = Vec::new();
/// sluice_plugin_sdk::push_string(&mut out, br#"say "hi" \o/"#.iter().copied());
/// assert_eq!(out, br#"say \"hi\" \\o/"#);
/// ```
#[inline]
pub fn push_string(out: &mut Vec<u8>, s: impl IntoIterator<Item = u8>) {
    for c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_keys_as_the_sdk_reads_them() {
        let batch = Batch::new(b"m,a\\ b=1,ab=2,a\\=b=3,a\\b=4,a\\\\b=5 v=1 1\n");
        let point = batch.points().next().unwrap().unwrap();
        for (key, _) in point.tags() {
            let text = key.to_string_lossy();
            assert!(Name::new(&text).matches(key), "{text:?}");
            for other in ["a b", "ab", "a=b", "a\\b", "a", "b"] {
                assert_eq!(Name::new(other).matches(key), text == other, "{other:?}");
            }
        }
    }

    #[test]
    fn spelled_keys_read_back_as_the_name() {
        for name in ["plain", "a b", "a,b", "a=b", "a\"b"] {
            let tag = Name::new(name).tag_key().unwrap();
            let line = [b"m,".as_slice(), &tag, b"=v f=1 0\n"].concat();
            let batch = Batch::new(&line);
            let point = batch.points().next().unwrap().unwrap();
            assert!(Name::new(name).matches(point.tags().next().unwrap().0));
            let field = Name::new(name).field_key().unwrap();
            let line = [b"m ".as_slice(), &field, b"=1 0\n"].concat();
            let batch = Batch::new(&line);
            let point = batch.points().next().unwrap().unwrap();
            assert!(Name::new(name).matches(point.fields().next().unwrap().key()));
        }
        assert!(matches!(
            Name::new("time").field_key(),
            Err(NameError::Write(_))
        ));
    }
}
