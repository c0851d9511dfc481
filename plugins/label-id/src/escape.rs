//! Names from the config against a batch's escaped text: matching them, sorting by them,
//! and spelling them as line protocol. Escapes are the SDK's business (they follow
//! InfluxDB 1.x and differ by place), so a name is escaped once, at init, by the SDK's
//! own writer, and compared through the SDK's unescaping.

use std::cmp::Ordering;

use sluice_plugin_sdk::{Batch, Escaped, LineWriter};

/// Bytes that some place escapes, or that start an escape: a name without any matches
/// a key exactly when the key as written is the same bytes.
fn is_plain(text: &str) -> bool {
    !text
        .bytes()
        .any(|c| matches!(c, b',' | b'=' | b' ' | b'"' | b'\\'))
}

/// A tag key from the config, compared with keys as written in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The key, unescaped.
    text: String,
    /// Whether `text` is plain (see [`is_plain`]): then a key matches when its bytes as
    /// written are `text`'s, with no unescaping.
    plain: bool,
}

impl Name {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            plain: is_plain(text),
            text: text.to_owned(),
        }
    }

    /// The key, unescaped.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `key` (as written in the batch) is this name.
    #[inline]
    pub(crate) fn matches(&self, key: Escaped<'_>) -> bool {
        if self.plain {
            key.as_raw() == self.text.as_bytes()
        } else {
            key == self.text.as_str()
        }
    }
}

/// How a tag key as written sorts against `escaped` (a key as written): by bytes as
/// written, the order InfluxDB 1.x sorts tags in.
#[inline]
pub(crate) fn cmp_raw(key: Escaped<'_>, escaped: &[u8]) -> Ordering {
    key.as_raw().cmp(escaped)
}

/// Writes a one-point line with the SDK's writer and reads it back.
fn written<T>(
    write: impl FnOnce(&mut LineWriter) -> Result<(), String>,
    read: impl FnOnce(&sluice_plugin_sdk::Point<'_>) -> Option<T>,
) -> Result<T, String> {
    let mut line = LineWriter::new();
    write(&mut line)?;
    let bytes = line.into_inner();
    let point = Batch::new(&bytes)
        .points()
        .next()
        .ok_or("the writer wrote nothing")?
        .map_err(|e| e.to_string())?;
    read(&point).ok_or_else(|| "the writer's line reads back without it".to_owned())
}

/// `key` spelled as a tag key (escaped), or why no line can hold it.
pub(crate) fn tag_key(key: &str) -> Result<Vec<u8>, String> {
    written(
        |line| {
            let mut p = line.point("m");
            p.tag(key, "v").field_bool("f", true);
            p.finish(0).map_err(|e| e.to_string())
        },
        |point| point.tags().next().map(|(k, _)| k.as_raw().to_vec()),
    )
}

/// `key` spelled as a field key (escaped), or why no line can hold it.
pub(crate) fn field_key(key: &str) -> Result<Vec<u8>, String> {
    written(
        |line| {
            let mut p = line.point("m");
            p.field_bool(key, true);
            p.finish(0).map_err(|e| e.to_string())
        },
        |point| point.fields().next().map(|f| f.key().as_raw().to_vec()),
    )
}

/// Appends unescaped bytes as the inside of a string field value (`"` and backslash
/// escaped, the only escapes of a string value).
#[inline]
pub(crate) fn push_string(out: &mut Vec<u8>, s: impl Iterator<Item = u8>) {
    for c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}

/// Appends `n` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `n % 10` is a digit, so the cast never truncates.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_keys_as_the_sdk_reads_them() {
        let batch = Batch::new(b"m,a\\ b=1,ab=2,a\\=b=3,a\\b=4 v=1 1\n");
        let point = batch.points().next().unwrap().unwrap();
        for (key, _) in point.tags() {
            let text = key.to_string_lossy();
            assert!(Name::new(&text).matches(key), "{text:?}");
            for other in ["a b", "ab", "a=b", "a\\b", "a", "b"] {
                assert_eq!(Name::new(other).matches(key), text == other, "{other:?}");
            }
        }
        assert_eq!(
            cmp_raw(point.tags().nth(1).unwrap().0, b"ab"),
            Ordering::Equal
        );
        assert_eq!(
            cmp_raw(point.tags().nth(1).unwrap().0, b"ac"),
            Ordering::Less
        );
    }

    #[test]
    fn names_are_spelled_by_the_sdk_writer() {
        // What reads back through the SDK is the name.
        for name in ["label_id", "a b", "x,y=z", "q\"uote"] {
            let tag = tag_key(name).unwrap();
            let line = [b"m,".as_slice(), &tag, b"=v f=1 0\n"].concat();
            let batch = Batch::new(&line);
            let point = batch.points().next().unwrap().unwrap();
            assert_eq!(point.tags().next().unwrap().0, name);
            let field = field_key(name).unwrap();
            let line = [b"m ".as_slice(), &field, b"=1 0\n"].concat();
            let batch = Batch::new(&line);
            let point = batch.points().next().unwrap().unwrap();
            assert_eq!(point.fields().next().unwrap().key(), name);
        }
        assert!(tag_key("").is_err());
        assert!(tag_key("a\nb").is_err());
        assert!(field_key("time").is_err());
    }

    #[test]
    fn strings_and_numbers() {
        let mut out = Vec::new();
        push_string(&mut out, b"say \"hi\\\" , =".iter().copied());
        assert_eq!(out, b"say \\\"hi\\\\\\\" , =");
        for n in [0, 7, 10, 4_096, u64::MAX] {
            out.clear();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
