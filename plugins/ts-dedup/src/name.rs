//! [`Name`]: a tag key from the config, matched against keys as written in a batch.

use sluice_plugin_sdk::Escaped;

/// A tag key from the config, compared with keys as written in a batch.
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

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::Batch;

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
}
