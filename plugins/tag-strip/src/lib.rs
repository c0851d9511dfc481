//! # tag-strip
//!
//! Sluice's first reference plugin: removes the listed tag keys — and, optionally, field
//! keys — from every point. Typical use: drop the `node` tag load generators add, so the
//! series of all nodes merge.
//!
//! ```toml
//! [[plugins]]
//! name = "strip-node"
//! wasm = "plugins/tag_strip.wasm"
//! config = { tags = ["node"], fields = [] }   # fields is optional
//! ```
//!
//! Each point is rewritten in one pass from slices of its canonical line (nothing is
//! unescaped, re-escaped or re-formatted); a point that loses all its fields is dropped
//! (line protocol has no point without fields) and the number dropped is logged once per
//! batch.
//!
//! # Layout
//!
//! One file: [`Config`], [`TagStrip`] and its [`Plugin`] implementation, and the native
//! unit tests.

use serde::Deserialize;
use sluice_plugin_sdk::{
    Batch, Context, Escaped, Host, Level, LineWriter, Plugin, PluginError, Point,
};

/// The plugin's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Tag keys to remove.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Field keys to remove.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Removes the configured tags and fields.
#[derive(Debug, Clone)]
pub struct TagStrip {
    tags: Vec<String>,
    fields: Vec<String>,
}

/// Whether `key` (as written in the batch) is one of `names`.
#[inline]
fn listed(names: &[String], key: Escaped<'_>) -> bool {
    names.iter().any(|n| key == n.as_str())
}

impl TagStrip {
    /// Appends `point` to `buf` without the listed tags and fields, as raw slices of its
    /// canonical line (so nothing is re-escaped or re-formatted); `false` if it would
    /// lose every field (and so was not written).
    #[inline]
    fn strip(&self, point: &Point<'_>, buf: &mut Vec<u8>) -> bool {
        let line = point.line();
        let key = point.key_raw();
        let start = buf.len();
        buf.extend_from_slice(point.measurement().as_raw());
        for (k, v) in point.tags() {
            if !listed(&self.tags, k) {
                buf.push(b',');
                buf.extend_from_slice(k.as_raw());
                buf.push(b'=');
                buf.extend_from_slice(v.as_raw());
            }
        }
        if self.fields.is_empty() {
            // " fields timestamp" as written.
            buf.extend_from_slice(line.get(key.len()..).unwrap_or_default());
        } else {
            let fields = point.fields_raw();
            let mut separator = b' ';
            for field in point.fields() {
                if !listed(&self.fields, field.key()) {
                    buf.push(separator);
                    buf.extend_from_slice(field.key().as_raw());
                    buf.push(b'=');
                    buf.extend_from_slice(field.raw_value());
                    separator = b',';
                }
            }
            if separator == b' ' {
                buf.truncate(start);
                return false;
            }
            // " timestamp" as written.
            buf.extend_from_slice(line.get(key.len() + 1 + fields.len()..).unwrap_or_default());
        }
        buf.push(b'\n');
        true
    }
}

impl Plugin for TagStrip {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if config.tags.is_empty() && config.fields.is_empty() {
            return Err(
                "nothing to strip: list tag keys in `tags` and/or field keys in `fields`".into(),
            );
        }
        if let Some(empty) = config
            .tags
            .iter()
            .chain(&config.fields)
            .find(|k| k.is_empty())
        {
            return Err(format!("empty key {empty:?} in `tags` or `fields`"));
        }
        Ok(Self {
            tags: config.tags,
            fields: config.fields,
        })
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        // Write straight into the output buffer: every piece is a slice of a canonical
        // line, so the result is canonical without the writer's checks.
        let mut buf = std::mem::take(out).into_inner();
        buf.reserve(batch.len());
        let mut dropped = 0usize;
        for point in batch.points() {
            let point = point?;
            if !self.strip(&point, &mut buf) {
                dropped += 1;
            }
        }
        *out = LineWriter::from_vec(buf);
        if dropped > 0 {
            host.log(
                Level::Debug,
                &format!("dropped {dropped} points left without fields"),
            );
        }
        Ok(())
    }
}

sluice_plugin_sdk::export!(TagStrip);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{FakeHost, RunError, load, run_native};

    fn run(config: &str, input: &str) -> Result<String, RunError> {
        let mut plugin: TagStrip = load(config).map_err(RunError::InvalidInput)?;
        let out = run_native(
            &mut plugin,
            &Context::default(),
            input.as_bytes(),
            &mut FakeHost::new(),
        )?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn removes_the_listed_tags_wherever_they_are() {
        let input = "http,node=n1,method=GET d=1i 1\n\
                     http,method=GET,node=n2 d=2i 2\n\
                     http,method=GET d=3i 3\n\
                     cpu,node=n1 v=0.5 4\n";
        assert_eq!(
            run(r#"{"tags": ["node"]}"#, input).unwrap(),
            "http,method=GET d=1i 1\n\
             http,method=GET d=2i 2\n\
             http,method=GET d=3i 3\n\
             cpu v=0.5 4\n"
        );
    }

    #[test]
    fn removes_several_tags_and_fields() {
        let input = "http,node=n1,flood=f,label=L d=1i,trace=\"x\",ok=true 1\n";
        assert_eq!(
            run(r#"{"tags": ["node", "label"], "fields": ["trace"]}"#, input).unwrap(),
            "http,flood=f d=1i,ok=true 1\n"
        );
    }

    #[test]
    fn escaped_keys_and_values_are_matched_and_kept_as_written() {
        let input = "m,no\\ de=a\\,b,k=v\\ w f\\=x=\"q \\\"s\\\"\" 1\n";
        assert_eq!(
            run(r#"{"tags": ["no de"]}"#, input).unwrap(),
            "m,k=v\\ w f\\=x=\"q \\\"s\\\"\" 1\n"
        );
        assert_eq!(
            run(
                r#"{"fields": ["f=x"], "tags": ["k"]}"#,
                "m,k=v f\\=x=1,g=2 1\n"
            )
            .unwrap(),
            "m g=2 1\n"
        );
    }

    #[test]
    fn a_point_without_fields_left_is_dropped_and_logged_once() {
        let mut plugin: TagStrip = load(r#"{"tags": ["node"], "fields": ["v"]}"#).unwrap();
        let mut host = FakeHost::new();
        let out = run_native(
            &mut plugin,
            &Context::default(),
            b"m,node=a v=1 1\nm,node=b v=2 2\nm,node=c v=3,w=4 3\n",
            &mut host,
        )
        .unwrap();
        assert_eq!(out, b"m w=4 3\n");
        assert_eq!(
            host.logs(),
            [(
                Level::Debug,
                "dropped 2 points left without fields".to_owned()
            )]
        );
        assert_eq!(host.calls(), 0);
    }

    #[test]
    fn untouched_points_are_copied_unchanged() {
        let input = "a,x=1 v=1 1\nb v=\"multi\nline\" 2\n";
        assert_eq!(run(r#"{"tags": ["node"]}"#, input).unwrap(), input);
        assert_eq!(run(r#"{"tags": ["node"]}"#, "").unwrap(), "");
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        let err = |c: &str| load::<TagStrip>(c).unwrap_err();
        assert!(err("{}").starts_with("nothing to strip"));
        assert!(err(r#"{"tags": [""]}"#).starts_with("empty key"));
        assert!(err(r#"{"tag": ["node"]}"#).contains("unknown field `tag`"));
        assert!(err(r#"{"tags": "node"}"#).contains("invalid type"));
        assert!(err("not json").starts_with("invalid config"));
    }
}
