//! Ids: the key that identifies a label in its scope ([`encode_key`]), the ids an instance
//! already knows ([`IdCache`]) and the labels of a batch it must ask kv for ([`Misses`]).

use foldhash::HashMap;

use sluice_plugin_sdk::{BytesMap, CapabilityError, Escaped, Host, PluginError, values_key};

/// Writes into `out` the cache key of `label` in the scope `scope` (the values of the
/// scope tags, in config order; `None` where a point has none). Each scope value is
/// written as `0` (absent) or `1`, its length (4 bytes) and its bytes as written, so the
/// scope part delimits itself and the label's bytes follow it unambiguously. Escapes are
/// kept (nothing is unescaped on the hot path): two spellings of one text (`a\b`,
/// `a\\b`) are two cache entries, which kv gives the same id (its key is the text).
#[inline]
pub(crate) fn encode_key(out: &mut Vec<u8>, scope: &[Option<Escaped<'_>>], label: Escaped<'_>) {
    values_key(out, scope);
    out.extend_from_slice(label.as_raw());
}

/// The kv namespace of a scope: `prefix` alone without scope tags, else `prefix`, then
/// per scope tag `/` and `-` (absent) or the value's length, `:` and the value (invalid
/// UTF-8 replaced by U+FFFD): `label/2:f1`, `label/-/2:eu`.
pub(crate) fn namespace(prefix: &str, scope: &[Option<Escaped<'_>>]) -> String {
    let mut ns = prefix.to_owned();
    for value in scope {
        ns.push('/');
        match value {
            None => ns.push('-'),
            Some(value) => {
                let text = value.to_string_lossy();
                ns.push_str(&text.len().to_string());
                ns.push(':');
                ns.push_str(&text);
            }
        }
    }
    ns
}

/// What the points of one label get, rendered once: the id tag (`,<id_tag>=<id>`) and,
/// when the text is kept, the field (`,<tag>="<text>"`), so that rewriting a point is
/// two copies.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The id tag, then the field.
    bytes: Box<[u8]>,
    /// Where the id tag ends.
    tag_end: usize,
}

impl Entry {
    /// An entry of the id tag `tag` and the field `field` (empty: none).
    pub(crate) fn new(tag: &[u8], field: &[u8]) -> Self {
        Self {
            bytes: [tag, field].concat().into_boxed_slice(),
            tag_end: tag.len(),
        }
    }

    /// The id tag, with its comma.
    #[inline]
    pub(crate) fn tag(&self) -> &[u8] {
        self.bytes.get(..self.tag_end).unwrap_or_default()
    }

    /// The field, with its comma (empty unless the text is kept).
    #[inline]
    pub(crate) fn field(&self) -> &[u8] {
        self.bytes.get(self.tag_end..).unwrap_or_default()
    }
}

/// The ids an instance has learned, rendered, by key ([`encode_key`]): at most
/// `capacity` entries. When a batch's new ids do not fit, the cache starts over (ids
/// never change, so forgetting one only costs a kv call).
#[derive(Debug)]
pub(crate) struct IdCache {
    ids: BytesMap<Entry>,
    capacity: usize,
}

impl IdCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            ids: BytesMap::new(),
            capacity,
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.ids.get(key)
    }

    /// Remembers the ids `misses` learned, as many as fit.
    pub(crate) fn absorb(&mut self, misses: &mut Misses) {
        if self.ids.len() + misses.ids.len() > self.capacity {
            self.ids.clear();
        }
        let room = self.capacity.saturating_sub(self.ids.len());
        let learned = misses
            .ids
            .drain()
            .filter_map(|(key, entry)| entry.map(|entry| (key, entry)));
        for (key, entry) in learned.take(room) {
            self.ids.insert(&key, entry);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The labels of one scope a batch asks kv for.
#[derive(Debug)]
struct Group {
    /// The kv namespace of the scope.
    namespace: String,
    /// The labels, as kv keys.
    labels: Vec<String>,
    /// Their cache keys, in the same order.
    keys: Vec<Box<[u8]>>,
    /// Their unescaped bytes, in the same order (to render the kept field).
    texts: Vec<Vec<u8>>,
}

/// The labels of a batch that the cache does not know, grouped by scope, and their
/// entries once kv has assigned their ids.
#[derive(Debug, Default)]
pub(crate) struct Misses {
    /// Every key missed, with its entry once its id is assigned.
    ids: HashMap<Box<[u8]>, Option<Entry>>,
    /// The keys to ask for, one group per scope (one kv call each).
    groups: Vec<Group>,
}

impl Misses {
    /// Forgets the last batch's misses.
    pub(crate) fn clear(&mut self) {
        self.ids.clear();
        self.groups.clear();
    }

    /// Scopes asked for.
    pub(crate) fn scopes(&self) -> usize {
        self.groups.len()
    }

    /// Labels asked for.
    pub(crate) fn labels(&self) -> usize {
        self.ids.len()
    }

    /// Records that `key` (of `label`, in the scope whose namespace `namespace` gives)
    /// is missing.
    pub(crate) fn add(
        &mut self,
        key: &[u8],
        label: Escaped<'_>,
        namespace: impl FnOnce() -> String,
    ) {
        if self.ids.contains_key(key) {
            return;
        }
        self.ids.insert(key.into(), None);
        let namespace = namespace();
        let group = match self.groups.iter().position(|g| g.namespace == namespace) {
            Some(i) => &mut self.groups[i],
            None => {
                self.groups.push(Group {
                    namespace,
                    labels: Vec::new(),
                    keys: Vec::new(),
                    texts: Vec::new(),
                });
                let last = self.groups.len() - 1;
                &mut self.groups[last]
            }
        };
        group.labels.push(label.to_string_lossy().into_owned());
        group.keys.push(key.into());
        group.texts.push(label.bytes().collect());
    }

    /// Asks kv for the ids of every missed label — one `assign-ids` call per scope — and
    /// renders their entries with `render(id, text)`.
    pub(crate) fn assign<H: Host>(
        &mut self,
        host: &mut H,
        render: impl Fn(u64, &[u8]) -> Entry,
    ) -> Result<(), PluginError> {
        for group in &self.groups {
            let ids = host
                .kv_assign_ids(&group.namespace, &group.labels)
                .map_err(|e| unavailable(&group.namespace, &e))?;
            if ids.len() != group.labels.len() {
                return Err(PluginError::Unavailable(format!(
                    "kv assign-ids in {:?} returned {} ids for {} labels",
                    group.namespace,
                    ids.len(),
                    group.labels.len()
                )));
            }
            for ((key, text), id) in group.keys.iter().zip(&group.texts).zip(ids) {
                if let Some(slot) = self.ids.get_mut(key) {
                    *slot = Some(render(id, text));
                }
            }
        }
        Ok(())
    }

    /// The entry of `key`, once assigned.
    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.ids.get(key).and_then(Option::as_ref)
    }
}

fn unavailable(namespace: &str, e: &CapabilityError) -> PluginError {
    PluginError::Unavailable(format!("kv assign-ids in {namespace:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::Batch;

    #[test]
    fn keys_and_namespaces_are_unambiguous() {
        let batch = Batch::new(b"m,a=x,b=y\\ z,c=xy v=1 1\n");
        let point = batch.points().next().unwrap().unwrap();
        let tags: Vec<_> = point.tags().map(|(_, v)| v).collect();
        let (x, yz, xy) = (tags[0], tags[1], tags[2]);
        let mut k1 = Vec::new();
        let mut k2 = Vec::new();
        // Scope "x" with label "xy" and scope "xy" with label "x" differ.
        encode_key(&mut k1, &[Some(x)], xy);
        encode_key(&mut k2, &[Some(xy)], x);
        assert_ne!(k1, k2);
        assert_eq!(k1, b"\x01\x01\0\0\0xxy");
        encode_key(&mut k2, &[None, Some(yz)], x);
        assert_eq!(k2, b"\0\x01\x04\0\0\0y\\ zx");
        assert_eq!(namespace("label", &[]), "label");
        assert_eq!(namespace("label", &[None, Some(yz)]), "label/-/3:y z");
    }
}
