//! [`Config`]: the plugin's settings as the operator writes them, and their validation.

use serde::Deserialize;

/// Smallest string offloaded by default, in bytes.
pub const DEFAULT_MIN_BYTES: usize = 1024;

/// The pointer field's name by default: `{field}` stands for the offloaded field's key.
pub const DEFAULT_POINTER_FIELD: &str = "{field}_url";

/// Longest blob key the gateway's stores take.
const MAX_BLOB_KEY: usize = 1024;

/// Hex digits of a SHA-256 digest, the content part of every blob key.
const DIGEST_HEX: usize = 64;

/// The plugin's configuration (the `config` table of its `[[plugins]]` entry).
///
/// ```toml
/// config = { fields = ["trace", "body"], min_bytes = 1024, pointer_field = "{field}_url", prefix = "traces/" }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The string field keys to offload when large (e.g. `["trace"]`). Required.
    pub fields: Vec<String>,
    /// Smallest value offloaded, in bytes of its text as InfluxDB would store it
    /// (unescaped); smaller values stay in the point.
    #[serde(default = "default_min_bytes")]
    pub min_bytes: usize,
    /// Name of the field that replaces an offloaded one and holds the blob's URL;
    /// `{field}` stands for the offloaded field's key. Default `"{field}_url"`.
    #[serde(default)]
    pub pointer_field: Option<String>,
    /// Prefix of the blob keys (e.g. `"traces/"`); the key is the prefix and the
    /// SHA-256 of the value in hex.
    #[serde(default)]
    pub prefix: Option<String>,
}

fn default_min_bytes() -> usize {
    DEFAULT_MIN_BYTES
}

/// A checked [`Config`]: per field, its key and its pointer's.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `(field, pointer field)` pairs, in config order.
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) min_bytes: usize,
    pub(crate) prefix: String,
}

/// Refuses a field key that is empty, holds a line feed or is `time`.
fn check_key(what: &str, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err(format!("`{what}` names an empty field key"));
    }
    if key.contains('\n') {
        return Err(format!(
            "`{what}` names {key:?}, with a line feed no field key may hold"
        ));
    }
    if key == "time" {
        return Err(format!(
            "`{what}` names the field \"time\", which InfluxDB refuses"
        ));
    }
    Ok(())
}

/// Refuses a blob key prefix the gateway's stores would refuse (checked on a key made
/// with it, as the stores check keys).
fn check_prefix(prefix: &str) -> Result<(), String> {
    let key = format!("{prefix}{}", "0".repeat(DIGEST_HEX));
    let problem = if key.len() > MAX_BLOB_KEY {
        Some("keys would be longer than 1024 bytes")
    } else if key.split('/').any(str::is_empty) {
        Some("keys would have an empty path segment")
    } else if key.split('/').any(|s| s.starts_with('.')) {
        Some("a path segment would start with '.'")
    } else if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-=+,@~:/".contains(c))
    {
        Some("only A-Z a-z 0-9 . _ - = + , @ ~ : and / are allowed")
    } else {
        None
    };
    match problem {
        Some(why) => Err(format!("`prefix` = {prefix:?}: {why}")),
        None => Ok(()),
    }
}

impl Config {
    /// Checks the configuration and fills in its defaults; the error names the bad key.
    pub(crate) fn validate(self) -> Result<Settings, String> {
        if self.fields.is_empty() {
            return Err(
                "`fields` is empty: list the string fields to offload (e.g. [\"trace\"])".into(),
            );
        }
        let template = self
            .pointer_field
            .unwrap_or_else(|| DEFAULT_POINTER_FIELD.to_owned());
        if self.fields.len() > 1 && !template.contains("{field}") {
            return Err(format!(
                "`pointer_field` = {template:?} has no {{field}}: every field of `fields` would get the same pointer field"
            ));
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, field) in self.fields.iter().enumerate() {
            check_key("fields", field)?;
            if self.fields.get(..i).unwrap_or_default().contains(field) {
                return Err(format!("`fields` lists {field:?} twice"));
            }
            let pointer = template.replace("{field}", field);
            check_key("pointer_field", &pointer)?;
            if pointer != *field && self.fields.contains(&pointer) {
                return Err(format!(
                    "`pointer_field` names {pointer:?} for {field:?}, another field of `fields`"
                ));
            }
            fields.push((field.clone(), pointer));
        }
        let prefix = self.prefix.unwrap_or_default();
        check_prefix(&prefix)?;
        Ok(Settings {
            fields,
            min_bytes: self.min_bytes,
            prefix,
        })
    }
}
