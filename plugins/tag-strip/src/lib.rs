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
//! The output is copied from the batch in runs, leaving out the bytes of the removed
//! tags and fields (nothing is unescaped, re-escaped or re-formatted, and a batch where
//! every point loses one tag costs one copy per point); a point that loses all its fields
//! is dropped (line protocol has no point without fields) and the number dropped is
//! logged once per batch.
//!
//! # Layout
//!
//! One file: [`Config`], [`TagStrip`] and its [`Plugin`] implementation (with `Names`,
//! the keys to remove, and `Runs`, the output copied in runs), and the native unit tests.

use std::ops::Range;

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
    tags: Names,
    fields: Names,
}

/// Keys to remove, split by how they are compared.
#[derive(Debug, Clone, Default)]
struct Names {
    /// Keys without a byte that is ever escaped (`,`, `=`, space, backslash): such a key
    /// matches exactly when the key as written is the same bytes (a backslash in a key
    /// as written always leaves one of those bytes in its unescaped text).
    plain: Vec<Box<[u8]>>,
    /// The other keys, compared with the key's unescaped text.
    other: Vec<String>,
}

impl Names {
    fn new(keys: Vec<String>) -> Self {
        let (plain, other): (Vec<String>, Vec<String>) = keys
            .into_iter()
            .partition(|k| !k.bytes().any(|c| matches!(c, b',' | b'=' | b' ' | b'\\')));
        Self {
            plain: plain
                .into_iter()
                .map(|k| k.into_bytes().into_boxed_slice())
                .collect(),
            other,
        }
    }

    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.other.is_empty()
    }

    /// Whether `key` (as written in the batch) is one of the names.
    #[inline]
    fn contains(&self, key: Escaped<'_>) -> bool {
        let raw = key.as_raw();
        self.plain.iter().any(|n| **n == *raw) || self.other.iter().any(|n| key == n.as_str())
    }
}

/// The output, copied from the batch in runs: everything between two cuts is one copy,
/// across lines, so a batch where every point loses one tag costs one copy per point.
struct Runs<'a> {
    /// The batch.
    batch: &'a [u8],
    /// Start of the run not copied yet.
    from: usize,
    /// End of that run: the end of the last line read (its line feed included).
    to: usize,
    /// The output.
    out: Vec<u8>,
}

impl<'a> Runs<'a> {
    /// Copies `batch[from..to]`.
    #[inline]
    fn flush(&mut self) {
        self.out
            .extend_from_slice(self.batch.get(self.from..self.to).unwrap_or_default());
    }

    /// A line starts at `at`: the run goes on if it is right after the last one.
    #[inline]
    fn line(&mut self, at: usize) {
        if at != self.to {
            self.flush();
            self.from = at;
        }
    }

    /// Leaves `batch[cut]` out (`cut` is in the current line, after earlier cuts).
    #[inline]
    fn cut(&mut self, cut: Range<usize>) {
        self.out
            .extend_from_slice(self.batch.get(self.from..cut.start).unwrap_or_default());
        self.from = cut.end;
    }

    /// The current line ends at `end` (past its line feed).
    #[inline]
    fn end_line(&mut self, end: usize) {
        self.to = end;
    }

    /// The output, every line ended by a line feed.
    fn finish(mut self) -> Vec<u8> {
        self.flush();
        if self.out.last().is_some_and(|&c| c != b'\n') {
            self.out.push(b'\n');
        }
        self.out
    }
}

impl TagStrip {
    /// Whether `point` would lose every field.
    fn loses_every_field(&self, point: &Point<'_>) -> bool {
        point.fields().all(|f| self.fields.contains(f.key()))
    }

    /// Copies `point` to `runs` without the listed tags and fields, leaving them out of
    /// the batch's bytes (so nothing is re-escaped or re-formatted); `false` if it would
    /// lose every field (and so was left out whole).
    #[inline]
    fn strip(&self, point: &Point<'_>, runs: &mut Runs<'_>) -> bool {
        let at = point.offset();
        runs.line(at);
        let end = (at + point.line().len() + 1).min(runs.batch.len());
        if !self.fields.is_empty() && self.loses_every_field(point) {
            runs.cut(at..end);
            runs.end_line(end);
            return false;
        }
        // Each tag goes with the comma before it (the measurement's, for the first).
        let tags_at = at + point.measurement().as_raw().len() + 1;
        let mut tags = point.tags();
        while let Some((key, _, range)) = tags.next_with_range() {
            if self.tags.contains(key) {
                runs.cut(tags_at + range.start - 1..tags_at + range.end);
            }
        }
        if !self.fields.is_empty() {
            // A field goes with the comma before it, or the one after it while no field
            // before it is kept (there is one: some field is kept).
            let fields_at = at + point.key_raw().len() + 1;
            let mut kept = false;
            let mut fields = point.fields();
            while let Some((field, range)) = fields.next_with_range() {
                if !self.fields.contains(field.key()) {
                    kept = true;
                } else if kept {
                    runs.cut(fields_at + range.start - 1..fields_at + range.end);
                } else {
                    runs.cut(fields_at + range.start..fields_at + range.end + 1);
                }
            }
        }
        runs.end_line(end);
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
            tags: Names::new(config.tags),
            fields: Names::new(config.fields),
        })
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        // Copy straight from the batch into the output buffer: every piece is a run of
        // canonical lines minus whole tags and fields, so the result is canonical
        // without the writer's checks.
        let mut buf = std::mem::take(out).into_inner();
        buf.reserve(batch.len());
        let mut runs = Runs {
            batch: batch.as_bytes(),
            from: 0,
            to: 0,
            out: buf,
        };
        let mut dropped = 0usize;
        for point in batch.points() {
            if !self.strip(&point?, &mut runs) {
                dropped += 1;
            }
        }
        *out = LineWriter::from_vec(runs.finish());
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
        // A plain key never matches a key written with a backslash.
        assert_eq!(
            run(
                r#"{"tags": ["node"]}"#,
                "m,no\\de=a,node=b,n\\ode=c v=1 1\n"
            )
            .unwrap(),
            "m,no\\de=a,n\\ode=c v=1 1\n"
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
    fn fields_go_with_the_right_comma_wherever_they_are() {
        let input = "m,node=a,k=v a=1,b=\"x,y=\\\" z\",c=3i 1\n\
                     m s=\"multi\nline, node=x\",node=2 2\n\
                     m,k=v,node=b b=\"w\" 3\n";
        let run = |fields: &str| {
            run(
                &format!(r#"{{"tags": ["node"], "fields": {fields}}}"#),
                input,
            )
        };
        assert_eq!(
            run(r#"["a"]"#).unwrap(),
            "m,k=v b=\"x,y=\\\" z\",c=3i 1\nm s=\"multi\nline, node=x\",node=2 2\nm,k=v b=\"w\" 3\n"
        );
        assert_eq!(
            run(r#"["a", "b"]"#).unwrap(),
            "m,k=v c=3i 1\nm s=\"multi\nline, node=x\",node=2 2\n"
        );
        assert_eq!(
            run(r#"["b", "node"]"#).unwrap(),
            "m,k=v a=1,c=3i 1\nm s=\"multi\nline, node=x\" 2\n"
        );
        assert_eq!(
            run(r#"["c", "s"]"#).unwrap(),
            "m,k=v a=1,b=\"x,y=\\\" z\" 1\nm node=2 2\nm,k=v b=\"w\" 3\n"
        );
    }

    #[test]
    fn runs_of_lines_are_copied_whole_and_split_at_cuts() {
        let mut input = String::new();
        let mut expected = String::new();
        for i in 0..50 {
            let tags = match i % 4 {
                0 => format!(",node=n{i}"),
                1 => format!(",a=1,node=n{i},b=2"),
                2 => ",a=1".to_owned(),
                // (Two `node` tags would be refused before any plugin: duplicate tags.)
                _ => format!(",a=1,z=2,node=n{i}"),
            };
            input.push_str(&format!("m{tags} v={i}i {i}\n"));
            let kept = match i % 4 {
                1 => ",a=1,b=2",
                2 => ",a=1",
                3 => ",a=1,z=2",
                _ => "",
            };
            expected.push_str(&format!("m{kept} v={i}i {i}\n"));
        }
        assert_eq!(run(r#"{"tags": ["node"]}"#, &input).unwrap(), expected);
    }

    #[test]
    fn a_batch_that_is_not_canonical_is_still_read_safely() {
        // The gateway never sends one; blank lines and a missing final line feed still
        // give canonical output.
        let mut plugin: TagStrip = load(r#"{"tags": ["node"]}"#).unwrap();
        let mut out = LineWriter::new();
        plugin
            .process(
                &Context::default(),
                Batch::new(b"\nm,node=a v=1 1\n\n\nm,b=1,node=c v=2 2"),
                &mut out,
                &mut FakeHost::new(),
            )
            .unwrap();
        assert_eq!(out.into_inner(), b"m v=1 1\nm,b=1 v=2 2\n");
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
