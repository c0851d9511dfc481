//! Field keys from the config against a batch's escaped keys: matching them and spelling
//! them as line protocol. Escapes are the SDK's business (they follow InfluxDB 1.x and
//! differ by place), so a key is escaped once, at init, by the SDK's own writer, and
//! compared through the SDK's unescaping.

use sluice_plugin_sdk::{Batch, Escaped, LineWriter};

/// A field key from the config, compared with keys as written in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The key, unescaped.
    text: String,
    /// Whether `text` has no byte that some place escapes or that starts an escape (`,`,
    /// `=`, space, `"`, backslash): such a key matches exactly when the key as written is
    /// the same bytes, without unescaping it.
    plain: bool,
}

impl Name {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            plain: !text
                .bytes()
                .any(|c| matches!(c, b',' | b'=' | b' ' | b'"' | b'\\')),
            text: text.to_owned(),
        }
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

/// `key` spelled as a field key (escaped) by the SDK's writer, or why no line can hold
/// it.
pub(crate) fn field_key(key: &str) -> Result<Vec<u8>, String> {
    let mut line = LineWriter::new();
    let mut p = line.point("m");
    p.field_bool(key, true);
    p.finish(0).map_err(|e| e.to_string())?;
    let bytes = line.into_inner();
    let point = Batch::new(&bytes)
        .points()
        .next()
        .ok_or("the writer wrote nothing")?
        .map_err(|e| e.to_string())?;
    point
        .fields()
        .next()
        .map(|f| f.key().as_raw().to_vec())
        .ok_or_else(|| "the writer's line reads back without it".to_owned())
}

/// Appends `s` as the inside of a string field value (`"` and backslash escaped).
pub(crate) fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}

/// Appends the lowercase hex of `bytes`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_its_place() {
        for name in ["trace_url", "a b", "x,y=z", "q\"uote"] {
            let key = field_key(name).unwrap();
            let line = [b"m ".as_slice(), &key, b"=1 0\n"].concat();
            let batch = Batch::new(&line);
            let point = batch.points().next().unwrap().unwrap();
            let field = point.fields().next().unwrap();
            assert_eq!(field.key(), name);
            assert!(Name::new(name).matches(field.key()));
        }
        assert!(field_key("time").is_err());
        assert!(field_key("").is_err());
        let mut out = Vec::new();
        push_string(&mut out, b"file:///a \"b\"\\c");
        assert_eq!(out, b"file:///a \\\"b\\\"\\\\c");
        let mut hex = String::new();
        push_hex(&mut hex, &[0, 0x9f, 0xff]);
        assert_eq!(hex, "009fff");
    }
}
