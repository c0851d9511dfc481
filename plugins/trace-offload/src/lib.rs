//! # trace-offload
//!
//! Sluice reference plugin: moves large string fields (request and response bodies,
//! traces) out of the points into `blob` storage (a directory or S3) and leaves a pointer
//! field holding the object's URL. InfluxDB stays small and fast; the payload is one
//! click away.
//!
//! ```toml
//! [[plugins]]
//! name = "offload"
//! wasm = "plugins/target/wasm32-wasip2/release/trace_offload.wasm"
//! config = { fields = ["trace"], min_bytes = 1024, pointer_field = "trace_url" }
//! ```
//!
//! `err,label=a code=500i,trace="…5 kB…" 1` becomes
//! `err,label=a code=500i,trace_url="file:///…/3f2a…" 1`: a listed string field whose text
//! (unescaped, as InfluxDB would store it) is at least `min_bytes` long is replaced, in
//! place, by the pointer field; the rest of the point is unchanged. The blob holds that
//! text byte for byte, under a content address — `prefix` and the SHA-256 of the text in
//! hex — so a retried or replayed batch writes the same objects again and equal payloads
//! share one.
//!
//! One `put-many` call per batch carries every object (none for a batch with nothing to
//! offload); if it fails the batch fails as `unavailable` and the client retries. The
//! output is copied from the batch in runs, replacing only the offloaded fields; a batch
//! without a string value (no `"` at all) is copied whole without reading its points.
//!
//! # Layout
//!
//! - [`Config`] (`config`): the settings and their validation.
//! - `escape`: config keys matched against escaped keys; plain text written as line
//!   protocol; hex.
//! - `splice`: the output copied from the batch in runs between edits.
//! - [`TraceOffload`] and its [`Plugin`] implementation (here); unit tests in `tests`.

mod config;
mod escape;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::ops::Range;

use sha2::{Digest, Sha256};
use sluice_plugin_sdk::{
    Batch, Context, FieldValue, Host, Level, LineWriter, Name, Plugin, PluginError, Point, Splice,
    push_string,
};

pub use config::{Config, DEFAULT_MIN_BYTES, DEFAULT_POINTER_FIELD};
use escape::push_hex;

/// Moves large string fields to blob storage.
#[derive(Debug)]
pub struct TraceOffload {
    /// The fields to offload.
    targets: Vec<Target>,
    /// Smallest text offloaded, in bytes.
    min_bytes: usize,
    /// Prefix of the blob keys.
    prefix: String,
    /// The current batch's fields to replace, in batch order (kept for its allocation).
    edits: Vec<Edit>,
    /// The current batch's objects, `(key, text)`, each once.
    objects: Vec<(String, Vec<u8>)>,
    /// Index in `objects` by SHA-256, so equal texts make one object.
    by_digest: HashMap<[u8; 32], usize>,
}

/// A field to offload.
#[derive(Debug)]
struct Target {
    /// Its key.
    name: Name,
    /// `<pointer field>="`, escaped: written before the URL.
    pointer_prefix: Box<[u8]>,
}

/// A field of the batch to replace by a pointer.
#[derive(Debug)]
struct Edit {
    /// The field, `key="value"`, in the batch.
    range: Range<usize>,
    /// Which target it is.
    target: usize,
    /// Which object holds its text.
    object: usize,
}

impl TraceOffload {
    /// Finds the fields of `point` to offload: records an edit for each and its object.
    #[inline]
    fn collect(&mut self, point: &Point<'_>) {
        let fields_raw = point.fields_raw();
        // A field to offload needs its key, `=` and quotes besides its text.
        if fields_raw.len() < self.min_bytes.saturating_add(4) {
            return;
        }
        let fields_at = point.offset() + point.key_raw().len() + 1;
        let mut fields = point.fields();
        while let Some((field, range)) = fields.next_with_range() {
            let raw = field.raw_value();
            if raw.first() != Some(&b'"') || raw.len() < self.min_bytes.saturating_add(2) {
                continue;
            }
            let Some(target) = self
                .targets
                .iter()
                .position(|t| t.name.matches(field.key()))
            else {
                continue;
            };
            let Some(FieldValue::String(text)) = field.value() else {
                continue;
            };
            let text = text.unescape();
            if text.len() < self.min_bytes {
                continue;
            }
            let digest: [u8; 32] = Sha256::digest(&text).into();
            let objects = &mut self.objects;
            let prefix = &self.prefix;
            let object = *self.by_digest.entry(digest).or_insert_with(|| {
                let mut key = String::with_capacity(prefix.len() + 64);
                key.push_str(prefix);
                push_hex(&mut key, &digest);
                objects.push((key, text.into_owned()));
                objects.len() - 1
            });
            self.edits.push(Edit {
                range: fields_at + range.start..fields_at + range.end,
                target,
                object,
            });
        }
    }
}

impl Plugin for TraceOffload {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.validate()?;
        let targets = settings
            .fields
            .iter()
            .map(|(field, pointer)| {
                let key = Name::new(pointer).field_key().map_err(|e| {
                    format!("`pointer_field` names {pointer:?}, which cannot be a field key: {e}")
                })?;
                Ok(Target {
                    name: Name::new(field),
                    pointer_prefix: [key.as_slice(), b"=\""].concat().into_boxed_slice(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            targets,
            min_bytes: settings.min_bytes,
            prefix: settings.prefix,
            edits: Vec::new(),
            objects: Vec::new(),
            by_digest: HashMap::new(),
        })
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        self.edits.clear();
        self.objects.clear();
        self.by_digest.clear();
        // Every string value has quotes: a batch without one (the common case) has
        // nothing to offload, and one search of its bytes says so.
        let bytes = batch.as_bytes();
        if bytes.len() >= self.min_bytes.saturating_add(4) && bytes.contains(&b'"') {
            for point in batch.points() {
                self.collect(&point?);
            }
        }
        let mut splice = Splice::new(bytes, std::mem::take(out).into_inner());
        if !self.objects.is_empty() {
            let urls = host.blob_put_many(&self.objects).map_err(|e| {
                PluginError::Unavailable(format!(
                    "blob put-many of {} objects: {e}",
                    self.objects.len()
                ))
            })?;
            if urls.len() != self.objects.len() {
                return Err(PluginError::Unavailable(format!(
                    "blob put-many returned {} URLs for {} objects",
                    urls.len(),
                    self.objects.len()
                )));
            }
            for edit in &self.edits {
                let (Some(target), Some(url)) =
                    (self.targets.get(edit.target), urls.get(edit.object))
                else {
                    continue;
                };
                splice.copy_to(edit.range.start);
                splice.push(&target.pointer_prefix);
                push_string(splice.out(), url.bytes());
                splice.push(b"\"");
                splice.cut(edit.range.clone());
            }
            let bytes: usize = self.objects.iter().map(|(_, text)| text.len()).sum();
            host.log(
                Level::Debug,
                &format!(
                    "offloaded {} fields to {} blobs ({bytes} bytes)",
                    self.edits.len(),
                    self.objects.len()
                ),
            );
        }
        *out = LineWriter::from_vec(splice.finish());
        // The texts can be large: do not keep them until the next batch.
        self.objects.clear();
        Ok(())
    }
}

sluice_plugin_sdk::export!(TraceOffload);
