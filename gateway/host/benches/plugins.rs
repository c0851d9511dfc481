//! What running a plugin as a component costs, on a realistic 5,000-point batch (the
//! load-test batch of `tests/all/lines.rs`; criterion prints points/s, ns/point is
//! 10^9 / that):
//!
//! - `<plugin>/native`, for `tag_strip`, `ts_dedup`, `label_id` and `trace_offload`: the
//!   plugin's `process` called natively through the SDK with `FakeHost` (the work
//!   itself);
//! - `<plugin>/native_checked`: the same plus the output check the host (and the SDK's
//!   `run_native`) does on every call — the like-for-like baseline of the component;
//! - `<plugin>/component`: the same code as a wasm component through the host
//!   (`Capabilities::ephemeral`: in-memory kv, a temporary blob directory; batch copied
//!   in, output copied out and checked to be canonical);
//! - `flood_chain/component`: the Flood chain of `examples/flood-relay.toml` — ts-dedup,
//!   tag-strip (`node`), label-id, trace-offload, with its configs — each component fed
//!   the previous one's output, and only the last output checked, as the gateway runs a
//!   chain;
//! - `identity/component`: a plugin that returns its input — the boundary alone;
//! - `check/output`: the host's canonical-output check alone (the view's walk);
//! - `instance/create`: a new instance (instantiate + `init`), what a fault costs.
//!
//! Every plugin (and the chain) runs the batch once before it is measured, so label-id's
//! ids are known: the steady state of a load test, no kv call per batch (a batch with new
//! labels adds one `assign-ids` per scope). The batch has no string field, so
//! trace-offload copies it whole: its figure is the cost of a batch with nothing to
//! offload.
//!
//! Needs the plugins built first:
//! `cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml`,
//! then `cargo bench --workspace --bench plugins`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use label_id::LabelId;
use sluice_host::caps::Capabilities;
use sluice_host::{Context, Engine, Plugin, PluginInstance, PluginSpec};
use sluice_plugin_sdk::{Batch, FakeHost, LineWriter};
use tag_strip::TagStrip;
use trace_offload::TraceOffload;
use ts_dedup::TsDedup;

#[path = "../tests/all/lines.rs"]
mod lines;

const POINTS: usize = 5_000;

// The configs of examples/flood-relay.toml (the HMAC key a fixed stand-in for the secret).
const DEDUP: &str = r#"{"key": "bench-secret", "tags": ["node", "label"]}"#;
const STRIP: &str = r#"{"tags": ["node"]}"#;
const LABEL_ID: &str =
    r#"{"tag": "label", "scope_tags": ["flood"], "id_tag": "label_id", "keep_as_field": true}"#;
const OFFLOAD: &str = r#"{"fields": ["trace"], "min_bytes": 1024, "pointer_field": "trace_url", "prefix": "traces/"}"#;

/// The Flood chain, in order: component and config.
const FLOOD_CHAIN: [(&str, &str); 4] = [
    ("ts_dedup", DEDUP),
    ("tag_strip", STRIP),
    ("label_id", LABEL_ID),
    ("trace_offload", OFFLOAD),
];

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

/// What the benches share: the host, its capabilities and the batch.
struct Bench {
    engine: Engine,
    caps: Capabilities,
    ctx: Context,
    batch: Vec<u8>,
    /// Holds the blob directory of `caps`.
    _blobs: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        let blobs = tempfile::tempdir().unwrap();
        Self {
            engine: Engine::new(None).unwrap(),
            caps: Capabilities::ephemeral(blobs.path()).unwrap(),
            ctx: Context::default(),
            batch: lines::load_test_batch(POINTS),
            _blobs: blobs,
        }
    }

    /// A new instance of component `wasm`, which has run the batch once (warm).
    fn instance(&self, wasm: &str, config: &str) -> PluginInstance {
        let mut instance = load(&self.engine, &self.caps, wasm, config)
            .instance()
            .unwrap();
        instance.process(&self.ctx, &self.batch).unwrap();
        instance
    }

    /// A group measured in points.
    fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(POINTS as u64));
        group
    }

    /// Group `wasm`: the plugin `P` natively (`native`, `native_checked`) and as a
    /// component, configured with `config`.
    fn plugin<P: sluice_plugin_sdk::Plugin>(&self, c: &mut Criterion, wasm: &str, config: &str) {
        let mut group = Self::group(c, wasm);
        let mut native: P = sluice_plugin_sdk::load(config).unwrap();
        let sdk_ctx = sluice_plugin_sdk::Context::default();
        let mut host = FakeHost::new();
        let mut run = |native: &mut P| {
            let mut out = LineWriter::with_capacity(self.batch.len());
            native
                .process(
                    &sdk_ctx,
                    Batch::new(black_box(&self.batch)),
                    &mut out,
                    &mut host,
                )
                .unwrap();
            out.into_inner()
        };
        run(&mut native);
        group.bench_function("native", |b| b.iter(|| run(&mut native)));
        // What the host adds to every call natively too: the output check (the SDK's
        // run_native does the same), so native and component do the same work.
        group.bench_function("native_checked", |b| {
            b.iter(|| {
                let out = run(&mut native);
                assert!(sluice_lineproto::points(&out).all(|p| p.is_ok()));
                out
            });
        });
        self.component(&mut group, wasm, config);
        group.finish();
    }

    /// `component` in `group`: component `wasm` through the host.
    fn component(&self, group: &mut BenchmarkGroup<'_, WallTime>, wasm: &str, config: &str) {
        let mut instance = self.instance(wasm, config);
        group.bench_function("component", |b| {
            b.iter(|| instance.process(&self.ctx, black_box(&self.batch)).unwrap());
        });
    }

    /// `flood_chain/component`: the Flood chain's components in turn on the batch.
    fn flood_chain(&self, c: &mut Criterion) {
        let mut chain: Vec<_> = FLOOD_CHAIN
            .iter()
            .map(|(wasm, config)| self.instance(wasm, config))
            .collect();
        let (first, rest) = chain.split_first_mut().unwrap();
        let mut group = Self::group(c, "flood_chain");
        // As the gateway runs a chain: plugins unchecked, the last output checked once.
        group.bench_function("component", |b| {
            b.iter(|| {
                let out = first
                    .process_unchecked(&self.ctx, black_box(&self.batch))
                    .unwrap();
                let out = rest.iter_mut().fold(out, |batch, next| {
                    next.process_unchecked(&self.ctx, &batch).unwrap()
                });
                sluice_host::check_output(&out).unwrap();
                out
            });
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    let bench = Bench::new();
    bench.plugin::<TagStrip>(c, "tag_strip", STRIP);
    bench.plugin::<TsDedup>(c, "ts_dedup", DEDUP);
    bench.plugin::<LabelId>(c, "label_id", LABEL_ID);
    bench.plugin::<TraceOffload>(c, "trace_offload", OFFLOAD);
    bench.flood_chain(c);

    let mut group = Bench::group(c, "identity");
    bench.component(&mut group, "identity", "{}");
    group.finish();

    let mut group = Bench::group(c, "check");
    group.bench_function("output", |b| {
        b.iter(|| sluice_lineproto::points(black_box(&bench.batch)).all(|p| p.is_ok()));
    });
    group.finish();

    let mut group = c.benchmark_group("instance");
    for (wasm, config) in [("identity", "{}"), ("tag_strip", STRIP)] {
        let plugin = load(&bench.engine, &bench.caps, wasm, config);
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
