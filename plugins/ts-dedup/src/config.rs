//! [`Config`]: the plugin's settings as the operator writes them, and their validation.

use serde::Deserialize;

/// The low bits rewritten by default: 2^19 ns ≈ 0.52 ms, under a millisecond, so points
/// whose timestamps are whole milliseconds (what load tools write) and differ stay
/// different.
pub const DEFAULT_BITS: u32 = 19;

/// Tag-value combinations remembered per instance by default, so that a point whose tags
/// were seen before costs a lookup instead of an HMAC.
pub const DEFAULT_CACHE_SIZE: usize = 65_536;

/// The plugin's configuration (the `config` table of its `[[plugins]]` entry).
///
/// ```toml
/// config = { key = "a long random secret", tags = ["node", "label"], bits = 19 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HMAC key: a secret, so that nobody can aim points at one another's
    /// timestamps. Required, not empty.
    pub key: String,
    /// The tags whose values decide a point's low bits (e.g. `["node", "label"]`).
    /// Required, at least one.
    pub tags: Vec<String>,
    /// How many low bits of the nanosecond timestamp are rewritten, 1 to 32: every
    /// point moves by less than 2^bits ns.
    #[serde(default = "default_bits")]
    pub bits: u32,
    /// How many tag-value combinations an instance remembers (0: none).
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
}

fn default_bits() -> u32 {
    DEFAULT_BITS
}

fn default_cache_size() -> usize {
    DEFAULT_CACHE_SIZE
}

impl Config {
    /// Checks the configuration; the error names the bad key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() {
            return Err("`key` is empty: set a secret HMAC key".into());
        }
        if let Some(start) = self.key.find("${")
            && self.key.get(start..).is_some_and(|rest| rest.contains('}'))
        {
            return Err(format!(
                "`key` is {:?}, an environment reference that was not expanded: \
                 the secret would be that text; set the variable where the gateway \
                 expands it, or the key itself",
                self.key
            ));
        }
        if self.tags.is_empty() {
            return Err(
                "`tags` is empty: list the tag keys whose values set the low bits (e.g. [\"node\", \"label\"])"
                    .into(),
            );
        }
        for (i, tag) in self.tags.iter().enumerate() {
            if tag.is_empty() {
                return Err("`tags` lists an empty key".into());
            }
            if tag.contains('\n') {
                return Err(format!(
                    "`tags` lists {tag:?}, with a line feed no tag key may hold"
                ));
            }
            if self.tags.get(..i).unwrap_or_default().contains(tag) {
                return Err(format!("`tags` lists {tag:?} twice"));
            }
        }
        if !(1..=32).contains(&self.bits) {
            return Err(format!(
                "`bits` = {} is out of range: 1 to 32 (a point moves by less than 2^bits ns)",
                self.bits
            ));
        }
        Ok(())
    }
}
