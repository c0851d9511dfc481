//! `sluice plugin test PLUGIN.wasm`: run one plugin over line protocol the way the
//! gateway would (same host, limits and output check), print its output on stdout and,
//! on stderr, what it wrote to kv and blob and how long it took per point.

use anyhow::Context as _;
use sluice::cli::PluginTestArgs;
use sluice::ingest::now_ns;
use sluice_host::caps::{Capabilities, recording};
use sluice_host::{Context, Engine, Plugin, PluginSpec};
use sluice_lineproto::Precision;
use std::io::{Read, Write};
use std::time::Instant;

/// Runs the plugin and prints the report.
pub(crate) fn run(options: &PluginTestArgs) -> anyhow::Result<()> {
    let config_json = config_json(&options.config)?;
    let raw = read_input(&options.input)?;
    let mut batch = Vec::new();
    let summary = sluice_lineproto::canonicalize(&raw, Precision::Nanosecond, now_ns(), &mut batch);
    if let Some(first) = &summary.first_error {
        eprintln!(
            "# input: {} line(s) skipped, first: {first}",
            summary.dropped
        );
    }
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let caps = Capabilities::ephemeral(&scratch.path().join("blobs"))?;
    let (caps, effects) = recording::record(caps);
    let engine = Engine::new(None)?;
    let name = options
        .wasm
        .file_stem()
        .map_or_else(|| "plugin".to_owned(), |s| s.to_string_lossy().into_owned());
    let spec = PluginSpec {
        config_json,
        timeout: options.timeout,
        ..PluginSpec::new(name, &options.wasm)
    };
    let plugin = Plugin::load(&engine, spec, caps)?;
    let mut instance = plugin.instance()?;
    let ctx = Context {
        db: options.db.clone(),
        ..Context::default()
    };
    let started = Instant::now();
    let output = instance.process(&ctx, &batch)?;
    let mut best = started.elapsed();
    let first_effects = effects.take();
    for _ in 1..options.repeat {
        let started = Instant::now();
        instance.process(&ctx, &batch)?;
        best = best.min(started.elapsed());
    }
    std::io::stdout()
        .write_all(&output)
        .context("cannot write the output")?;
    let points_out = sluice::chain::count_points(&output);
    for effect in &first_effects {
        eprintln!("# {effect}");
    }
    let per_point = if summary.points == 0 {
        0.0
    } else {
        best.as_nanos() as f64 / summary.points as f64
    };
    eprintln!(
        "# {}: {} point(s) in, {points_out} out, {} kv/blob write(s), {:.1?} ({per_point:.0} ns/point{})",
        plugin.name(),
        summary.points,
        first_effects.len(),
        best,
        if options.repeat > 1 {
            format!(", best of {}", options.repeat)
        } else {
            String::new()
        }
    );
    Ok(())
}

/// `key=value` pairs as a JSON object; values that parse as JSON are taken as such.
fn config_json(pairs: &[String]) -> anyhow::Result<String> {
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--config {pair:?}: expected key=value"))?;
        anyhow::ensure!(!key.is_empty(), "--config {pair:?}: the key is empty");
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        object.insert(key.to_owned(), value);
    }
    Ok(serde_json::Value::Object(object).to_string())
}

/// The input's bytes.
fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    if input == "-" {
        let mut raw = Vec::new();
        std::io::stdin()
            .read_to_end(&mut raw)
            .context("cannot read stdin")?;
        return Ok(raw);
    }
    std::fs::read(input).with_context(|| format!("cannot read {input}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_are_json_when_they_parse() {
        let json = config_json(&[
            r#"tags=["node"]"#.to_owned(),
            "n=3".to_owned(),
            "name=strip me".to_owned(),
        ])
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tags": ["node"], "n": 3, "name": "strip me"})
        );
        assert!(config_json(&["novalue".to_owned()]).is_err());
    }
}
