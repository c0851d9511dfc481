//! What running a plugin as a component costs, on a realistic 5,000-point batch:
//!
//! - `tag_strip/native`: the tag-strip plugin's `process` called natively through the
//!   SDK (the work itself);
//! - `tag_strip/native_checked`: the same plus the output check the host (and the SDK's
//!   `run_native`) does on every call — the like-for-like baseline of the component;
//! - `tag_strip/component`: the same code as a wasm component through the host (batch
//!   copied in, output copied out and checked to be canonical);
//! - `identity/component`: a plugin that returns its input — the boundary alone;
//! - `check/output`: the host's canonical-output check alone (the view's walk);
//! - `instance/create`: a new instance (instantiate + `init`), what a fault costs.
//!
//! Needs the plugins built first:
//! `cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml`,
//! then `cargo bench -p sluice-host`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice_host::caps::Capabilities;
use sluice_host::{Context, Engine, Plugin, PluginSpec};
use sluice_plugin_sdk::{Batch, FakeHost, LineWriter, Plugin as _};
use tag_strip::TagStrip;

#[path = "../tests/all/lines.rs"]
mod lines;

const POINTS: usize = 5_000;
const STRIP: &str = r#"{"tags": ["node"]}"#;

fn component(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"))
}

fn load(engine: &Engine, caps: &Capabilities, wasm: &str, config: &str) -> Plugin {
    let mut spec = PluginSpec::new(wasm, component(wasm));
    spec.config_json = config.into();
    Plugin::load(engine, spec, caps.clone())
        .expect("build the plugins first (see the top of this file)")
}

fn benches(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let blobs = tempfile::tempdir().unwrap();
    let caps = Capabilities::ephemeral(blobs.path()).unwrap();
    let batch = lines::load_test_batch(POINTS);
    let ctx = Context::default();

    let mut group = c.benchmark_group("tag_strip");
    group.throughput(Throughput::Elements(POINTS as u64));
    let mut native: TagStrip = sluice_plugin_sdk::load(STRIP).unwrap();
    let sdk_ctx = sluice_plugin_sdk::Context::default();
    let mut host = FakeHost::new();
    group.bench_function("native", |b| {
        b.iter(|| {
            let mut out = LineWriter::with_capacity(batch.len());
            native
                .process(&sdk_ctx, Batch::new(black_box(&batch)), &mut out, &mut host)
                .unwrap();
            out.into_inner()
        });
    });
    // What the host adds to every call natively too: the output check (the SDK's
    // run_native does the same), so native and component do the same work.
    group.bench_function("native_checked", |b| {
        b.iter(|| {
            let mut out = LineWriter::with_capacity(batch.len());
            native
                .process(&sdk_ctx, Batch::new(black_box(&batch)), &mut out, &mut host)
                .unwrap();
            let out = out.into_inner();
            assert!(sluice_lineproto::points(&out).all(|p| p.is_ok()));
            out
        });
    });
    let mut strip = load(&engine, &caps, "tag_strip", STRIP).instance().unwrap();
    group.bench_function("component", |b| {
        b.iter(|| strip.process(&ctx, black_box(&batch)).unwrap());
    });
    group.finish();

    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(POINTS as u64));
    let mut identity = load(&engine, &caps, "identity", "{}").instance().unwrap();
    group.bench_function("component", |b| {
        b.iter(|| identity.process(&ctx, black_box(&batch)).unwrap());
    });
    group.finish();

    let mut group = c.benchmark_group("check");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.bench_function("output", |b| {
        b.iter(|| sluice_lineproto::points(black_box(&batch)).all(|p| p.is_ok()));
    });
    group.finish();

    let mut group = c.benchmark_group("instance");
    for (wasm, config) in [("identity", "{}"), ("tag_strip", STRIP)] {
        let plugin = load(&engine, &caps, wasm, config);
        group.bench_with_input(BenchmarkId::new("create", wasm), &plugin, |b, plugin| {
            b.iter(|| plugin.instance().unwrap());
        });
    }
    group.finish();
}

criterion_group! {
    name = plugin_benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(plugin_benches);
