//! [`Config`]: the plugin's settings as the operator writes them, and their validation.

use serde::Deserialize;

/// Labels remembered per instance by default (about 100 bytes plus the label each).
pub const DEFAULT_CACHE_SIZE: usize = 65_536;

/// The plugin's configuration (the `config` table of its `[[plugins]]` entry).
///
/// ```toml
/// config = { tag = "label", scope_tags = ["flood"], id_tag = "label_id", keep_as_field = true }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The tag whose values are replaced by ids (e.g. `"label"`). Required.
    pub tag: String,
    /// The tag that carries the id; `"<tag>_id"` by default. May be `tag` itself to
    /// replace the value in place.
    #[serde(default)]
    pub id_tag: Option<String>,
    /// Tags whose values scope the ids: each distinct combination of their values counts
    /// its own ids from 0 (e.g. `["flood"]`: ids per load test). Default: one scope.
    #[serde(default)]
    pub scope_tags: Vec<String>,
    /// Also keep the text as a string field named `tag`, so it can still be read.
    #[serde(default)]
    pub keep_as_field: bool,
    /// Prefix of the kv namespaces the ids live in; `tag` by default.
    #[serde(default)]
    pub namespace: Option<String>,
    /// How many labels an instance remembers, so that a batch of known labels makes no kv
    /// call (0: ask kv for every batch).
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
}

fn default_cache_size() -> usize {
    DEFAULT_CACHE_SIZE
}

/// A checked [`Config`], defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) tag: String,
    pub(crate) id_tag: String,
    pub(crate) scope_tags: Vec<String>,
    pub(crate) keep_as_field: bool,
    pub(crate) namespace: String,
    pub(crate) cache_size: usize,
}

/// Refuses a key that is empty or holds a line feed (no line protocol can carry it).
fn check_key(what: &str, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err(format!("`{what}` is empty: name a tag key"));
    }
    if key.contains('\n') {
        return Err(format!(
            "`{what}` = {key:?} holds a line feed, which no tag key may hold"
        ));
    }
    Ok(())
}

impl Config {
    /// Checks the configuration and fills in its defaults; the error names the bad key.
    pub(crate) fn validate(self) -> Result<Settings, String> {
        check_key("tag", &self.tag)?;
        let id_tag = self.id_tag.unwrap_or_else(|| format!("{}_id", self.tag));
        check_key("id_tag", &id_tag)?;
        for (i, scope) in self.scope_tags.iter().enumerate() {
            check_key("scope_tags", scope)?;
            if *scope == self.tag {
                return Err(format!(
                    "`scope_tags` lists {scope:?}, the `tag` itself: a label cannot scope itself"
                ));
            }
            if *scope == id_tag {
                return Err(format!(
                    "`scope_tags` lists {scope:?}, the `id_tag` the plugin writes"
                ));
            }
            if self.scope_tags.get(..i).unwrap_or_default().contains(scope) {
                return Err(format!("`scope_tags` lists {scope:?} twice"));
            }
        }
        let namespace = self.namespace.unwrap_or_else(|| self.tag.clone());
        if namespace.is_empty() {
            return Err("`namespace` is empty: leave it out to use the `tag`".into());
        }
        Ok(Settings {
            tag: self.tag,
            id_tag,
            scope_tags: self.scope_tags,
            keep_as_field: self.keep_as_field,
            namespace,
            cache_size: self.cache_size,
        })
    }
}
