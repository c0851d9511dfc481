//! # label-id
//!
//! Sluice reference plugin: replaces a high-cardinality tag (a transaction `label` such as
//! `GET /checkout/17`) by a small sequential id per scope (per `flood`, say), assigned
//! atomically through `kv` so that every gateway sharing the store agrees. The text can
//! be kept as a string field, which costs no series.
//!
//! ```toml
//! [[plugins]]
//! name = "label-id"
//! wasm = "plugins/target/wasm32-wasip2/release/label_id.wasm"
//! config = { tag = "label", scope_tags = ["flood"], id_tag = "label_id", keep_as_field = true }
//! ```
//!
//! `tx,flood=f1,label=GET\ /a,node=n1 v=1 1` becomes
//! `tx,flood=f1,label_id=0,node=n1 v=1,label="GET /a" 1`: the `tag` is left out, the
//! `id_tag` goes where it sorts among the tags that remain (by bytes as written, as
//! InfluxDB sorts them, so sorted tags stay sorted; an `id_tag` the point already had
//! is replaced), and with `keep_as_field` the text, unescaped, becomes the last field. Points without the tag pass unchanged, as do
//! points whose label is longer than [`MAX_LABEL_BYTES`] (logged once per batch).
//!
//! Ids count from 0 in each scope: the kv namespace is the `namespace` prefix followed by
//! the scope tags' values (see `ids::namespace`), the key is the label's text. The WIT
//! `assign-ids` takes one namespace, so a batch whose labels are not all cached makes one
//! `assign-ids` call per scope among its unknown labels (a load test writes one scope, so
//! that is one call) and a batch of known labels makes none: each instance keeps the ids
//! it learned in a bounded cache (`cache_size`).
//!
//! The output is copied from the batch in runs: until the first label the cache does not
//! know, each point is rewritten as it is read (a warm batch is read once); from there
//! the batch is read to the end to collect the unknown labels, kv is asked, and the rest
//! is rewritten in a second walk.
//!
//! # Layout
//!
//! - [`Config`] (`config`): the settings and their validation.
//! - `ids`: the cache key of a label in its scope, the kv namespace of a scope, the
//!   bounded id cache and a batch's misses.
//! - `escape`: config names matched against escaped keys; plain text written as line
//!   protocol.
//! - `splice`: the output copied from the batch in runs between edits.
//! - [`LabelId`] and its [`Plugin`] implementation (here); unit tests in `tests`.

mod config;
mod escape;
mod ids;
#[cfg(test)]
mod tests;

use std::ops::Range;

use sluice_plugin_sdk::{
    Batch, Context, Escaped, Host, Level, LineWriter, Name, Plugin, PluginError, Point, Splice,
    push_string,
};

pub use config::{Config, DEFAULT_CACHE_SIZE};
use escape::{cmp_raw, push_u64};
use ids::{Entry, IdCache, Misses, encode_key, namespace};

/// Longest label (in bytes, unescaped) the plugin maps: the kv's key limit. A longer one
/// is left in place.
pub const MAX_LABEL_BYTES: usize = 4096;

/// Replaces the configured tag by an id per scope.
#[derive(Debug)]
pub struct LabelId {
    /// What to replace and how.
    rules: Rules,
    /// The ids this instance knows.
    cache: IdCache,
    /// The current batch's labels the cache did not know (kept for its allocations).
    misses: Misses,
    /// Scratch: the cache key of the current point.
    key: Vec<u8>,
    /// Scratch: the tags the current point loses (absolute ranges, comma included).
    cuts: Vec<Range<usize>>,
}

/// The configuration, ready for the hot path.
#[derive(Debug)]
struct Rules {
    /// The tag whose values become ids.
    tag: Name,
    /// The tag that carries the id.
    id_tag: Name,
    /// The id tag's key as written, to sort it among the others.
    id_tag_raw: Box<[u8]>,
    /// The tags whose values make the scope.
    scope: Vec<Name>,
    /// Prefix of the scopes' kv namespaces.
    namespace: String,
    /// `,<id_tag>=`, escaped: written before each id.
    id_prefix: Box<[u8]>,
    /// `,<tag>="`, escaped: written before the text when it is kept as a field.
    field_prefix: Option<Box<[u8]>>,
}

/// What a point's tags say.
enum Lookup<'a> {
    /// The point has no `tag`: it passes unchanged (any `id_tag` it has included).
    Pass,
    /// The label is longer than [`MAX_LABEL_BYTES`]: the point passes.
    TooLong,
    /// The point gets an id.
    Found(Found<'a>),
}

/// What a point with the tag needs, positions absolute in the batch.
struct Found<'a> {
    /// The tag's value (the first, if the point repeats the tag).
    label: Escaped<'a>,
    /// Where the id tag goes: before the comma of the first tag left that sorts after
    /// it, or at the end of the tags.
    id_at: usize,
    /// The end of the field set, where a kept field goes.
    fields_end: usize,
}

impl Rules {
    /// Reads the tags of `point` (whose line starts at `base + point.offset()`): the scope
    /// values into `scope`, the tags to leave out into `cuts`.
    #[inline]
    fn find<'a>(
        &self,
        point: &Point<'a>,
        base: usize,
        scope: &mut [Option<Escaped<'a>>],
        cuts: &mut Vec<Range<usize>>,
    ) -> Lookup<'a> {
        let at = base + point.offset();
        let tags_at = at + point.measurement().as_raw().len() + 1;
        let key_end = at + point.key_raw().len();
        scope.fill(None);
        cuts.clear();
        let mut label = None;
        let mut id_at = None;
        let mut tags = point.tags();
        while let Some((key, value, range)) = tags.next_with_range() {
            // Each tag with the comma before it (the measurement's, for the first).
            let comma = tags_at + range.start - 1;
            if self.tag.matches(key) {
                label.get_or_insert(value);
                cuts.push(comma..tags_at + range.end);
                continue;
            }
            if self.id_tag.matches(key) {
                cuts.push(comma..tags_at + range.end);
                continue;
            }
            for (name, slot) in self.scope.iter().zip(scope.iter_mut()) {
                if slot.is_none() && name.matches(key) {
                    *slot = Some(value);
                }
            }
            if id_at.is_none() && cmp_raw(key, &self.id_tag_raw).is_gt() {
                id_at = Some(comma);
            }
        }
        let Some(label) = label else {
            return Lookup::Pass;
        };
        if label.as_raw().len() > MAX_LABEL_BYTES && label.bytes().count() > MAX_LABEL_BYTES {
            return Lookup::TooLong;
        }
        Lookup::Found(Found {
            label,
            id_at: id_at.unwrap_or(key_end),
            fields_end: key_end + 1 + point.fields_raw().len(),
        })
    }

    /// Renders what the points of a label get: `,<id_tag>=<id>` and, when the text is
    /// kept, `,<tag>="<text>"` (`text` unescaped, escaped here as a string value).
    fn render(&self, id: u64, text: &[u8]) -> Entry {
        let mut tag = self.id_prefix.to_vec();
        push_u64(&mut tag, id);
        let mut field = Vec::new();
        if let Some(prefix) = &self.field_prefix {
            field.extend_from_slice(prefix);
            push_string(&mut field, text.iter().copied());
            field.push(b'"');
        }
        Entry::new(&tag, &field)
    }

    /// Writes the point of `found` with `entry`: the cut tags left out, the id tag in
    /// its place, the text as the last field if kept.
    #[inline]
    fn rewrite(
        &self,
        found: &Found<'_>,
        cuts: &[Range<usize>],
        entry: &Entry,
        out: &mut Splice<'_>,
    ) {
        let mut id_written = false;
        for cut in cuts {
            if !id_written && cut.start > found.id_at {
                out.copy_to(found.id_at);
                out.push(entry.tag());
                id_written = true;
            }
            out.cut(cut.clone());
        }
        if !id_written {
            out.copy_to(found.id_at);
            out.push(entry.tag());
        }
        let field = entry.field();
        if !field.is_empty() {
            out.copy_to(found.fields_end);
            out.push(field);
        }
    }
}

/// The cache key of `label` in `scope`: the label as written when there are no scope
/// tags (no copy), else [`encode_key`] into `buf`.
#[inline]
fn cache_key<'k>(
    buf: &'k mut Vec<u8>,
    scope: &[Option<Escaped<'_>>],
    label: Escaped<'k>,
) -> &'k [u8] {
    if scope.is_empty() {
        label.as_raw()
    } else {
        encode_key(buf, scope, label);
        buf
    }
}

impl LabelId {
    /// Rewrites the points of `batch` from `from` on, every label's id being in the cache
    /// or among the misses kv just assigned.
    fn rewrite_rest<'a>(
        &mut self,
        batch: &'a [u8],
        from: usize,
        scope: &mut [Option<Escaped<'a>>],
        out: &mut Splice<'_>,
    ) -> Result<(), PluginError> {
        let rest = batch.get(from..).unwrap_or_default();
        for point in Batch::new(rest).points() {
            let point = point?;
            let Lookup::Found(found) = self.rules.find(&point, from, scope, &mut self.cuts) else {
                continue;
            };
            let key = cache_key(&mut self.key, scope, found.label);
            let entry = self
                .cache
                .get(key)
                .or_else(|| self.misses.get(key))
                .ok_or_else(|| {
                    PluginError::Rejected(format!(
                        "no id for label {:?} after kv assigned them",
                        found.label
                    ))
                })?;
            self.rules.rewrite(&found, &self.cuts, entry, out);
        }
        Ok(())
    }
}

impl Plugin for LabelId {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.validate()?;
        let id_tag_raw = Name::new(&settings.id_tag)
            .tag_key()
            .map_err(|e| format!("`id_tag` = {:?} cannot be a tag key: {e}", settings.id_tag))?;
        let id_prefix = [b",".as_slice(), &id_tag_raw, b"="].concat();
        let field_prefix = if settings.keep_as_field {
            let key = Name::new(&settings.tag).field_key().map_err(|e| {
                format!(
                    "`keep_as_field`: the `tag` {:?} cannot be a field key: {e}",
                    settings.tag
                )
            })?;
            Some([b",".as_slice(), &key, b"=\""].concat().into_boxed_slice())
        } else {
            None
        };
        Ok(Self {
            rules: Rules {
                tag: Name::new(&settings.tag),
                id_tag: Name::new(&settings.id_tag),
                id_tag_raw: id_tag_raw.into_boxed_slice(),
                scope: settings.scope_tags.iter().map(|s| Name::new(s)).collect(),
                namespace: settings.namespace,
                id_prefix: id_prefix.into_boxed_slice(),
                field_prefix,
            },
            cache: IdCache::new(settings.cache_size),
            misses: Misses::default(),
            key: Vec::new(),
            cuts: Vec::new(),
        })
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        let bytes = batch.as_bytes();
        let mut splice = Splice::new(bytes, std::mem::take(out).into_inner());
        let mut scope = vec![None; self.rules.scope.len()];
        self.misses.clear();
        // The offset of the first point whose id the cache does not know: points before
        // it are rewritten as they are read, the rest after kv answered.
        let mut first_miss = None;
        let mut too_long = 0usize;
        for point in batch.points() {
            let point = point?;
            let found = match self.rules.find(&point, 0, &mut scope, &mut self.cuts) {
                Lookup::Found(found) => found,
                Lookup::TooLong => {
                    too_long += 1;
                    continue;
                }
                Lookup::Pass => continue,
            };
            let key = cache_key(&mut self.key, &scope, found.label);
            let cached = self.cache.get(key);
            match (first_miss, cached) {
                (None, Some(entry)) => self.rules.rewrite(&found, &self.cuts, entry, &mut splice),
                (_, Some(_)) => {}
                (_, None) => {
                    first_miss.get_or_insert(point.offset());
                    let rules = &self.rules;
                    self.misses
                        .add(key, found.label, || namespace(&rules.namespace, &scope));
                }
            }
        }
        if let Some(from) = first_miss {
            let rules = &self.rules;
            self.misses
                .assign(host, |id, text| rules.render(id, text))?;
            self.rewrite_rest(bytes, from, &mut scope, &mut splice)?;
            host.log(
                Level::Debug,
                &format!(
                    "assigned ids to {} new labels in {} scopes",
                    self.misses.labels(),
                    self.misses.scopes()
                ),
            );
            self.cache.absorb(&mut self.misses);
        }
        if too_long > 0 {
            host.log(
                Level::Warn,
                &format!(
                    "left {too_long} points unchanged: their `{}` is longer than {MAX_LABEL_BYTES} bytes",
                    self.rules.tag.as_str()
                ),
            );
        }
        *out = LineWriter::from_vec(splice.finish());
        Ok(())
    }
}

sluice_plugin_sdk::export!(LabelId);
