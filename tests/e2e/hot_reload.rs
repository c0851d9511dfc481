//! Hot reload against a real `sluice` and `influxd`: reloads under continuous load lose
//! nothing and answer no client with an error, every batch runs on exactly one chain
//! version, broken changes are refused while the old chain keeps serving, and each
//! trigger (`POST /admin/reload`, a rename-write of the config or of a `.wasm`, `SIGHUP`)
//! applies.

use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, flood_points, metric_sum, plugin_wasm,
    to_lines, wait_until,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000_000_000;
/// Points per writer batch; batch `k`'s points are at `T0 + k * STRIDE + i`.
const BATCH: i64 = 200;
const STRIDE: i64 = 1_000;

/// A relay running the component at `wasm` as `strip` with `config`, to `influx`.
fn config(influx: &TestInflux, wasm: &Path, plugin_config: &str) -> String {
    SluiceConfig::new()
        .plugin("strip", wasm, &format!("config = {plugin_config}\n"))
        .output_v1("central", &influx.url())
        .toml()
}

fn strip(tag: &str) -> String {
    format!("{{ tags = [\"{tag}\"] }}")
}

/// Copies `from` to `to` through a temporary file and a rename, as build tools do.
fn install(from: &Path, to: &Path) {
    let tmp = to.with_extension("wasm.tmp");
    std::fs::copy(from, &tmp)
        .and_then(|_| std::fs::rename(&tmp, to))
        .unwrap_or_else(|e| panic!("installing {} as {}: {e}", from.display(), to.display()));
}

/// The running chain's generation and its plugins' sha256, from `/health`.
fn active(sluice: &TestSluice) -> (u64, Vec<String>) {
    let health = sluice.health();
    let chain = &health["active_chain"];
    let shas = chain["plugins"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["sha256"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (chain["generation"].as_u64().unwrap_or(0), shas)
}

/// `POST /admin/reload`: status and JSON body.
fn admin_reload(sluice: &TestSluice) -> (u16, serde_json::Value) {
    let response = sluice.request("POST", "/admin/reload").send();
    (response.status, response.json())
}

/// The `load` points of writer batch `k`.
fn batch(k: i64) -> Vec<Point> {
    (0..BATCH)
        .map(|i| {
            Point::new("load")
                .tag("node", &format!("n{}", i % 10))
                .tag("region", &format!("r{}", i % 3))
                .field("v", k)
                .at(T0 + k * STRIDE + i)
        })
        .collect()
}

#[test]
fn reloads_under_load_lose_nothing_and_each_batch_runs_on_one_chain() {
    let influx = TestInflux::start();
    influx.create_db("h");
    // A copy of the plugin the test can replace.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let wasm: PathBuf = dir.path().join("strip.wasm");
    install(&plugin_wasm("tag-strip"), &wasm);
    let sluice = TestSluice::with_config(config(&influx, &wasm, &strip("node"))).spawn();

    let stop = AtomicBool::new(false);
    let reloading = AtomicBool::new(false);
    let acked: Mutex<Vec<i64>> = Mutex::new(Vec::new());
    let refused: Mutex<Vec<String>> = Mutex::new(Vec::new());
    // Ack latency (µs) of writes made before the reloads and during them.
    let latencies: Mutex<[Vec<u64>; 2]> = Mutex::new([Vec::new(), Vec::new()]);
    let mut reload_answers = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Bounded: at most 20,000 batches, stops when told.
            for k in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let phase = usize::from(reloading.load(Ordering::Relaxed));
                let body = to_lines(&batch(k));
                let sent = Instant::now();
                let response = sluice.write("h", &body);
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                latencies.lock().unwrap_or_else(|e| e.into_inner())[phase].push(micros);
                if response.status == 204 {
                    acked.lock().unwrap_or_else(|e| e.into_inner()).push(k);
                } else {
                    refused
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(response.describe());
                }
            }
        });
        // A second of load without reloads, for the latency baseline.
        std::thread::sleep(Duration::from_secs(1));
        reloading.store(true, Ordering::Relaxed);
        // Ten reloads alternating what tag-strip strips...
        for n in 0..10u32 {
            std::thread::sleep(Duration::from_millis(250));
            let tag = if n.is_multiple_of(2) {
                "region"
            } else {
                "node"
            };
            sluice.replace_config(&config(&influx, &wasm, &strip(tag)));
            reload_answers.push(admin_reload(&sluice));
        }
        // ... then the component replaced by another build (identity, which takes no
        // config: the config follows within the watch's debounce), seen by the watch.
        let before = active(&sluice);
        install(&plugin_wasm("identity"), &wasm);
        sluice.replace_config(&config(&influx, &wasm, "{}"));
        let swapped = wait_until(Duration::from_secs(10), || {
            let now = active(&sluice);
            (now.1 != before.1).then_some(now)
        });
        // Some batches on the new build before the load stops.
        let at_swap = acked.lock().unwrap_or_else(|e| e.into_inner()).len();
        wait_until(Duration::from_secs(10), || {
            let now = acked.lock().unwrap_or_else(|e| e.into_inner()).len();
            (now >= at_swap + 5).then_some(())
        });
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        assert!(
            swapped.is_some(),
            "the replaced .wasm was not reloaded:\n{}",
            sluice.log()
        );
    });

    for (status, body) in &reload_answers {
        assert_eq!(*status, 200, "reload answered {status}: {body}");
        assert_eq!(body["result"], "applied", "{body}");
    }
    let refused = refused.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        refused.is_empty(),
        "writes refused during reloads: {refused:?}"
    );
    let acked = acked.into_inner().unwrap_or_else(|e| e.into_inner());
    let expected = acked.len() * usize::try_from(BATCH).unwrap_or(0);
    let stored = wait_until(LONG, || {
        let points = influx.try_points("h", "load").ok()?;
        (points.len() >= expected).then_some(points)
    })
    .unwrap_or_else(|| panic!("not every acknowledged point was stored:\n{}", sluice.log()));
    assert_eq!(stored.len(), expected, "stored vs acknowledged points");

    // Each batch ran on one chain: all its points have the same tag keys.
    let mut keys_by_batch: BTreeMap<i64, BTreeSet<Vec<String>>> = BTreeMap::new();
    for point in &stored {
        let k = (point.time - T0) / STRIDE;
        keys_by_batch
            .entry(k)
            .or_default()
            .insert(point.tags.keys().cloned().collect());
    }
    let mixed: Vec<_> = keys_by_batch.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        mixed.is_empty(),
        "batches that ran on two chains: {mixed:?}"
    );
    let versions: BTreeSet<Vec<String>> = keys_by_batch
        .values()
        .flat_map(|v| v.iter().cloned())
        .collect();
    assert_eq!(
        versions.len(),
        3,
        "expected batches stripped of node, of region, and (identity) of nothing: {versions:?}"
    );
    let [mut quiet, mut busy] = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    println!(
        "{} batches, {} points through 11 reloads; 0 refused; ack latency p50/p99 without reloads {}/{} µs ({} writes), during reloads {}/{} µs ({} writes)",
        acked.len(),
        stored.len(),
        percentile(&mut quiet, 50),
        percentile(&mut quiet, 99),
        quiet.len(),
        percentile(&mut busy, 50),
        percentile(&mut busy, 99),
        busy.len()
    );
}

/// The `p`th percentile of `values` (nearest rank), 0 when empty.
fn percentile(values: &mut [u64], p: usize) -> u64 {
    values.sort_unstable();
    let rank = (values.len() * p).div_ceil(100).max(1);
    values.get(rank - 1).copied().unwrap_or(0)
}

#[test]
fn a_thousand_reloads_leave_memory_flat() {
    let influx = TestInflux::start();
    influx.create_db("m");
    let strip_wasm = plugin_wasm("tag-strip");
    let sluice = TestSluice::with_config(config(&influx, &strip_wasm, &strip("node"))).spawn();
    let reload = |n: usize| {
        let tag = if n.is_multiple_of(2) {
            "region"
        } else {
            "node"
        };
        sluice.replace_config(&config(&influx, &strip_wasm, &strip(tag)));
        let (status, body) = admin_reload(&sluice);
        assert_eq!(status, 200, "reload {n}: {body}");
        // Every chain serves a batch, so each generation has instances to release.
        let response = sluice.write("m", &to_lines(&batch(i64::try_from(n).unwrap_or(0))));
        assert_eq!(response.status, 204, "{}", response.describe());
    };
    for n in 0..100 {
        reload(n);
    }
    let warm = sluice.rss_bytes().unwrap_or(0);
    for n in 100..1_100 {
        reload(n);
    }
    let after = sluice.rss_bytes().unwrap_or(0);
    let (generation, _) = active(&sluice);
    println!(
        "RSS after 100 reloads {} KiB, after 1,100 {} KiB (generation {generation})",
        warm / 1024,
        after / 1024
    );
    assert!(generation >= 1_100, "generation {generation}");
    assert!(
        after < warm + 32 * 1024 * 1024,
        "1,000 reloads grew RSS from {} to {} KiB",
        warm / 1024,
        after / 1024
    );
}

#[test]
fn broken_changes_are_refused_while_the_old_chain_serves() {
    let influx = TestInflux::start();
    influx.create_db("b");
    let strip_wasm = plugin_wasm("tag-strip");
    let good = config(&influx, &strip_wasm, &strip("node"));
    let sluice = TestSluice::with_config(good.clone()).spawn();
    let truncated = sluice.dir().join("truncated.wasm");
    let bytes = std::fs::read(&strip_wasm).unwrap_or_else(|e| panic!("reading: {e}"));
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let evil = plugin_wasm("evil");
    // The attack on every batch, the reload's canary included.
    let evil_config = |mode: &str| {
        SluiceConfig::new()
            .plugin(
                "evil",
                &evil,
                &format!("config = {{ mode = \"{mode}\", trigger = \"sluice_reload_canary\" }}\n"),
            )
            .output_v1("central", &influx.url())
            .toml()
    };
    let pinned = good.replace(
        "[[plugins]]\n",
        "[[plugins]]\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
    );
    let cases = [
        (
            "a truncated .wasm",
            config(&influx, &truncated, &strip("node")),
            "load",
        ),
        (
            "an init that rejects its config",
            evil_config("reject-config"),
            "load",
        ),
        (
            "a canary batch the chain fails on",
            evil_config("invalid-output"),
            "canary",
        ),
        (
            "a plugin that traps on every batch",
            evil_config("panic"),
            "canary",
        ),
        (
            "an init that never returns",
            evil_config("init-loop"),
            "load",
        ),
        (
            "a syntax error in the config",
            format!("{good}\n[[plugins\n"),
            "config",
        ),
        ("a sha256 pin the file does not match", pinned, "load"),
        (
            "a config without outputs",
            SluiceConfig::new()
                .plugin(
                    "strip",
                    &strip_wasm,
                    &format!("config = {}\n", strip("node")),
                )
                .toml(),
            "config",
        ),
    ];
    for (n, (what, broken, stage)) in cases.iter().enumerate() {
        sluice.replace_config(broken);
        let (status, body) = admin_reload(&sluice);
        assert_eq!(status, 422, "{what}: {body}");
        assert_eq!(
            (body["result"].as_str(), body["stage"].as_str()),
            (Some("failed"), Some(*stage)),
            "{what}: {body}"
        );
        // The old chain still strips `node`.
        let point = Point::new(&format!("after{n}"))
            .tag("node", "n1")
            .tag("region", "r1")
            .field("v", 1i64)
            .at(T0 + i64::try_from(n).unwrap_or(0));
        let response = sluice.write("b", &to_lines(&[point]));
        assert_eq!(response.status, 204, "{what}: {}", response.describe());
        let stored = wait_until(LONG, || {
            influx
                .try_points("b", &format!("after{n}"))
                .ok()
                .filter(|p| !p.is_empty())
        })
        .unwrap_or_default();
        assert_eq!(stored.len(), 1, "{what}: not stored");
        assert!(
            !stored[0].tags.contains_key("node") && stored[0].tags.contains_key("region"),
            "{what}: the old chain did not run: {:?}",
            stored[0]
        );
    }
    let (generation, _) = active(&sluice);
    assert_eq!(generation, 0, "a broken reload replaced the chain");
    let health = sluice.health();
    assert_eq!(health["reload"]["result"], "failed", "{health}");
    let failed = metric_sum(
        &sluice.metrics(),
        "sluice_reloads_total",
        &[("result", "failed")],
    )
    .unwrap_or(0.0);
    assert!(
        failed >= 8.0,
        "sluice_reloads_total{{result=\"failed\"}} = {failed}"
    );
    assert!(sluice.log().contains("reload refused"), "no log line");
}

#[test]
fn the_file_watch_and_sighup_reload_and_restart_only_changes_are_reported() {
    let influx = TestInflux::start();
    influx.create_db("w");
    let strip_wasm = plugin_wasm("tag-strip");
    let sluice = TestSluice::with_config(config(&influx, &strip_wasm, &strip("node"))).spawn();

    // A rename-write of the config, no signal, no request: the watch applies it.
    let changed = Instant::now();
    sluice.replace_config(&config(&influx, &strip_wasm, &strip("region")));
    let applied = wait_until(Duration::from_secs(10), || {
        (active(&sluice).0 == 1).then(|| changed.elapsed())
    });
    let Some(applied) = applied else {
        panic!("the file watch did not reload:\n{}", sluice.log());
    };
    assert_eq!(sluice.health()["reload"]["trigger"], "watch");
    println!(
        "file change to new chain serving: {} ms",
        applied.as_millis()
    );

    // SIGHUP reloads (and no longer ends the process).
    sluice.hangup();
    let signalled = wait_until(Duration::from_secs(10), || {
        let health = sluice.health();
        (health["reload"]["trigger"] == "signal").then_some(health)
    });
    assert!(
        signalled.is_some(),
        "SIGHUP did not reload:\n{}",
        sluice.log()
    );

    // Tokens and outputs apply live: the renamed output replaces the old one.
    let with_token = config(&influx, &strip_wasm, &strip("region"))
        .replace("tokens = []", "tokens = [\"s3cret\"]")
        .replace(
            "[[outputs]]\nname = \"central\"",
            "[[outputs]]\nname = \"central2\"",
        );
    sluice.replace_config(&with_token);
    // The watch applies the token (generation 2); from then on reloads need it too.
    let watched = wait_until(Duration::from_secs(10), || {
        (active(&sluice).0 == 2).then_some(())
    });
    assert!(
        watched.is_some(),
        "the token change was not applied:
{}",
        sluice.log()
    );
    let (status, body) = admin_reload(&sluice);
    assert_eq!(status, 401, "the new token is not yet required? {body}");
    let response = sluice
        .request("POST", "/admin/reload")
        .token("s3cret")
        .send();
    let body = response.json();
    assert_eq!(response.status, 200, "{body}");
    assert!(
        body["restart_needed"]
            .as_array()
            .is_some_and(|v| !v.iter().any(|s| s == "outputs")),
        "{body}"
    );
    assert_eq!(output_names(&sluice), ["central2"]);
    let response = sluice.write("w", "m v=1 1\n");
    assert_eq!(response.status, 401, "{}", response.describe());
}

/// The outputs `/health` lists, in order.
fn output_names(sluice: &TestSluice) -> Vec<String> {
    sluice.health()["outputs"]
        .as_array()
        .map(|outputs| {
            outputs
                .iter()
                .filter_map(|o| o["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes `points` to `db` through `sluice`, which must acknowledge them.
fn write_points(sluice: &TestSluice, db: &str, points: &[Point]) {
    let response = sluice.write(db, &to_lines(points));
    assert_eq!(response.status, 204, "{}", response.describe());
}

/// Replaces the config and reloads now (a reload the watch already made leaves nothing
/// for this one to do; either way the new config runs when it returns).
fn reload_with(sluice: &TestSluice, config: &str) {
    sluice.replace_config(config);
    let (status, body) = admin_reload(sluice);
    assert_eq!(status, 200, "{body}\n{}", sluice.log());
}

#[test]
fn outputs_added_and_removed_by_a_reload_start_at_the_tail_and_release_their_cursor() {
    let (a, b) = (TestInflux::start(), TestInflux::start());
    a.create_db("out");
    b.create_db("out");
    let only_a = SluiceConfig::new().output_v1("a", &a.url()).toml();
    let both = SluiceConfig::new()
        .output_v1("a", &a.url())
        .output_v1("b", &b.url())
        .toml();
    let only_b = SluiceConfig::new().output_v1("b", &b.url()).toml();
    let sluice = TestSluice::with_config(only_a).spawn();

    let before = flood_points(500, T0, "m");
    write_points(&sluice, "out", &before);
    a.expect_points("out", "m", &before);

    // Added: b starts at the buffer's tail, so it gets only what is written from now on.
    reload_with(&sluice, &both);
    assert_eq!(output_names(&sluice), ["a", "b"]);
    let during = flood_points(500, T0 + 1_000_000, "m");
    write_points(&sluice, "out", &during);
    let a_expected: Vec<Point> = before.iter().chain(&during).cloned().collect();
    a.expect_points("out", "m", &a_expected);
    b.expect_points("out", "m", &during);

    // Removed: a stops and releases its cursor; b goes on and loses nothing.
    reload_with(&sluice, &only_b);
    assert_eq!(output_names(&sluice), ["b"]);
    let after = flood_points(500, T0 + 2_000_000, "m");
    write_points(&sluice, "out", &after);
    let b_expected: Vec<Point> = during.iter().chain(&after).cloned().collect();
    b.expect_points("out", "m", &b_expected);
    assert_eq!(
        a.points("out", "m").len(),
        a_expected.len(),
        "a got nothing after its removal"
    );
    let pending = &sluice.health()["buffer"]["pending"];
    assert!(
        pending.get("a").is_none() && pending.get("b").is_some(),
        "{pending}"
    );
    // `/query` follows the first output.
    b.create_db("only_on_b");
    let shown = sluice.get("/query?q=SHOW%20DATABASES");
    assert_eq!(shown.status, 200, "{}", shown.describe());
    assert!(shown.body.contains("only_on_b"), "{}", shown.describe());
}
