//! The plugin chain in a running `sluice`: tag-strip removes the `node` tag before the
//! store sees it; every attack of the evil plugin (infinite loop, allocation to the limit,
//! panic, invalid output, 100× output) is dead-lettered while the process stays up and
//! other batches keep flowing, and `sluice dlq replay` through a fixed chain delivers the
//! batches into `influxd`; `on_error = "pass"` and `"drop"`; a plugin that rejects its
//! config stops the start with its message.

use sluice_e2e::buffer_files::files_under;
use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, flood_points, plugin_wasm, run_command,
    sluice_command, to_lines, wait_until,
};
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000_000_000;

/// The `[[plugins]]` lines of tag-strip removing the `node` tag.
const STRIP_NODE: &str = "config = { tags = [\"node\"] }\n";

/// A chain of one evil plugin in `mode`, and an output that is down (nothing is
/// expected to reach it).
fn lone_evil(name: &str, mode: &str) -> SluiceConfig {
    SluiceConfig::new()
        .plugin(
            name,
            &plugin_wasm("evil"),
            &format!("config = {{ mode = \"{mode}\" }}\n"),
        )
        .output_v1("central", &sluice_e2e::dead_url())
}

/// `points` without their `node` tag.
fn without_node(points: &[Point]) -> Vec<Point> {
    points
        .iter()
        .cloned()
        .map(|mut p| {
            p.tags.remove("node");
            p
        })
        .collect()
}

#[test]
fn tag_strip_removes_the_node_tag_before_the_store() {
    let influx = TestInflux::start();
    influx.create_db("flood");
    let config = SluiceConfig::new()
        .plugin("strip-node", &plugin_wasm("tag-strip"), STRIP_NODE)
        .output_v1("central", &influx.url());
    let sluice = TestSluice::with_config(config.toml()).spawn();

    let points = flood_points(5000, T0, "flood");
    let response = sluice.write("flood", &to_lines(&points));
    assert_eq!(response.status, 204, "{}", response.describe());
    influx.expect_points("flood", "flood", &without_node(&points));
    let keys = influx
        .query("SHOW TAG KEYS FROM \"flood\"", "flood")
        .to_string();
    assert!(
        !keys.contains("\"node\"") && keys.contains("\"label\""),
        "{keys}"
    );
    assert_eq!(sluice.health()["chain"], serde_json::json!(["strip-node"]));

    // `sluice check` next to the running gateway: its plugins get a scratch kv, so the
    // gateway's (locked) store is neither needed nor touched.
    let config_arg = sluice.config_path().to_string_lossy().into_owned();
    let checked = run_command(
        &mut sluice_command(&["check", "-c", &config_arg], sluice.dir()),
        Duration::from_secs(60),
    );
    assert_eq!(checked.code, Some(0), "{}", checked.describe());
}

/// Each attack, by the measurement that triggers it.
const ATTACKS: [(&str, &str); 5] = [
    ("loop", "evil_loop"),
    ("alloc", "evil_alloc"),
    ("panic", "evil_panic"),
    ("invalid-output", "evil_invalid"),
    ("amplify", "evil_amplify"),
];

#[test]
fn every_attack_is_dead_lettered_and_replayed_through_a_fixed_chain() {
    let influx = TestInflux::start();
    influx.create_db("e");
    let evil = plugin_wasm("evil");
    let mut config = SluiceConfig::new().output_v1("central", &influx.url());
    for (mode, trigger) in ATTACKS {
        config = config.plugin(
            mode,
            &evil,
            &format!(
                "config = {{ mode = \"{mode}\", trigger = \"{trigger}\" }}\n\
                 timeout = \"500ms\"\nmax_memory = \"16MiB\"\n"
            ),
        );
    }
    let mut sluice = TestSluice::with_config(config.toml()).spawn();

    let mut attacked = Vec::new();
    for (i, (mode, trigger)) in ATTACKS.iter().enumerate() {
        // 3,000 points (~300 KB): 100 copies of it are far past 16 MiB.
        let points = flood_points(3000, T0, trigger);
        let started = Instant::now();
        let response = sluice.write("e", &to_lines(&points));
        assert_eq!(
            response.status,
            204,
            "{mode}: a dead-lettered batch is kept, so it is acknowledged: {}",
            response.describe()
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mode}: answered after {:?}",
            started.elapsed()
        );
        assert!(sluice.is_running(), "{mode}: the process died");
        // Other batches keep flowing through the same chain.
        let next = flood_points(10, T0 + 1_000_000 * i64::try_from(i).unwrap_or(0), "ok");
        let response = sluice.write("e", &to_lines(&next));
        assert_eq!(response.status, 204, "{mode}: {}", response.describe());
        attacked.push(points);
    }
    let delivered = wait_until(LONG, || {
        (influx.count("e", "ok", "count") == 50).then_some(())
    });
    assert!(
        delivered.is_some(),
        "the batches between the attacks were not all stored"
    );
    for (_, trigger) in ATTACKS {
        assert_eq!(
            influx.count("e", trigger, "count"),
            0,
            "{trigger} reached the store"
        );
    }
    assert_eq!(
        sluice.metric("sluice_dead_lettered_batches_total"),
        Some(5.0)
    );
    let metrics = sluice.metrics();
    for (mode, kind) in [
        ("loop", "timeout"),
        ("alloc", "memory_limit"),
        ("panic", "trap"),
        ("invalid-output", "invalid_output"),
        ("amplify", "memory_limit"),
    ] {
        let series = format!(
            "sluice_plugin_errors_total{{plugin=\"{mode}\",kind=\"{kind}\",action=\"dead-letter\"}} 1"
        );
        assert!(metrics.contains(&series), "no {series} in\n{metrics}");
    }

    let listed = sluice.dlq(&["list"]);
    assert_eq!(listed.code, Some(0), "{}", listed.describe());
    for (mode, _) in ATTACKS {
        assert!(
            listed.stdout.contains(&format!("  plugin  {mode} ")),
            "{mode} missing from\n{}",
            listed.stdout
        );
    }
    // Each entry keeps what the plugin saw of the write: the client's address.
    let metas: Vec<String> = files_under(&sluice.dir().join("dead-letter"))
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert_eq!(metas.len(), 5, "{metas:?}");
    assert!(
        metas.iter().all(|m| m.contains("\"client\": \"127.0.0.1:")),
        "{metas:?}"
    );
    let locked = sluice.dlq(&["replay", "--all"]);
    assert_ne!(
        locked.code,
        Some(0),
        "replay while the gateway holds the buffer"
    );
    assert!(locked.stderr.contains("stop it"), "{}", locked.describe());

    // Fix the chain (drop the evil plugins), replay offline, start again.
    sluice.terminate();
    let fixed = SluiceConfig::new().output_v1("central", &influx.url());
    sluice.set_config(&fixed.toml());
    let replayed = sluice.dlq(&["replay", "--all"]);
    assert_eq!(replayed.code, Some(0), "{}", replayed.describe());
    assert!(
        replayed
            .stdout
            .contains("5 replayed (15000 points), 0 kept"),
        "{}",
        replayed.stdout
    );
    let listed = sluice.dlq(&["list"]);
    assert!(
        listed.stdout.contains("no dead-lettered batches"),
        "{}",
        listed.describe()
    );
    sluice.restart();
    for ((_, trigger), points) in ATTACKS.iter().zip(&attacked) {
        influx.expect_points("e", trigger, points);
    }
}

#[test]
fn on_error_pass_skips_the_plugin_and_drop_discards_the_batch() {
    let influx = TestInflux::start();
    influx.create_db("e");
    let evil = plugin_wasm("evil");
    let config = SluiceConfig::new()
        .plugin(
            "garble-pass",
            &evil,
            "config = { mode = \"invalid-output\", trigger = \"garbled\" }\non_error = \"pass\"\n",
        )
        .plugin(
            "panic-pass",
            &evil,
            "config = { mode = \"panic\", trigger = \"passed\" }\non_error = \"pass\"\n",
        )
        .plugin(
            "panic-drop",
            &evil,
            "config = { mode = \"panic\", trigger = \"dropped\" }\non_error = \"drop\"\n",
        )
        .plugin("strip-node", &plugin_wasm("tag-strip"), STRIP_NODE)
        .output_v1("central", &influx.url());
    let sluice = TestSluice::with_config(config.toml()).spawn();

    let passed = flood_points(200, T0, "passed");
    let dropped = flood_points(300, T0, "dropped");
    let after = flood_points(10, T0, "after");
    // Only the chain's last output is checked; when it is bad, the plugin that first
    // wrote bad lines is found and skipped, and the plugins after it run again.
    let garbled = flood_points(100, T0, "garbled");
    for batch in [&passed, &dropped, &after, &garbled] {
        let response = sluice.write("e", &to_lines(batch));
        assert_eq!(response.status, 204, "{}", response.describe());
    }
    // The failed plugin was skipped; the rest of the chain still ran.
    influx.expect_points("e", "passed", &without_node(&passed));
    influx.expect_points("e", "after", &without_node(&after));
    influx.expect_points("e", "garbled", &without_node(&garbled));
    assert_eq!(influx.count("e", "dropped", "count"), 0);
    let metrics = sluice.metrics();
    let blamed = "sluice_plugin_errors_total{plugin=\"garble-pass\",kind=\"invalid_output\",action=\"pass\"} 1";
    assert!(metrics.contains(blamed), "no {blamed} in\n{metrics}");
    assert_eq!(
        sluice_e2e::metric_sum(
            &metrics,
            "sluice_points_dropped_total",
            &[("reason", "plugin")]
        ),
        Some(300.0),
        "{metrics}"
    );
    assert_eq!(sluice.metric("sluice_dead_lettered_batches_total"), None);
}

#[test]
fn a_plugin_that_rejects_its_config_stops_the_start_with_its_message() {
    let config = lone_evil("picky", "reject-config");
    let mut sluice = TestSluice::with_config(config.toml()).spawn_unready();
    let status = sluice.wait_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| !s.success()),
        "sluice should refuse to start: {status:?}"
    );
    let expected =
        "plugin \"picky\" rejected its config: evil plugin rejects its config on purpose";
    assert!(sluice.log().contains(expected), "{}", sluice.log());

    let config_arg = sluice.config_path().to_string_lossy().into_owned();
    let checked = run_command(
        &mut sluice_command(&["check", "-c", &config_arg], sluice.dir()),
        Duration::from_secs(60),
    );
    assert_eq!(checked.code, Some(1), "{}", checked.describe());
    assert!(checked.stderr.contains(expected), "{}", checked.describe());
}

#[test]
fn an_unavailable_plugin_dependency_asks_the_client_to_retry() {
    let config = lone_evil("needs-kv", "unavailable");
    let sluice = TestSluice::with_config(config.toml()).spawn();
    let response = sluice.write("e", "evil v=1 1\n");
    assert_eq!(response.status, 503, "{}", response.describe());
    assert_eq!(response.header("retry-after"), Some("1"));
    assert!(
        response.body.contains("evil backend is down on purpose"),
        "{}",
        response.describe()
    );
    // Nothing was kept: the client still holds the batch.
    assert_eq!(sluice.metric("sluice_dead_lettered_batches_total"), None);
    let response = sluice.write("e", "calm v=1 1\n");
    assert_eq!(response.status, 204, "{}", response.describe());
}

#[test]
fn dlq_replay_refuses_a_buffer_that_would_lose_the_batches() {
    let config = lone_evil("needs-kv", "unavailable").memory_buffer();
    let mut sluice = TestSluice::with_config(config.toml()).spawn();
    sluice.terminate();
    let replayed = sluice.dlq(&["replay", "--all"]);
    assert_eq!(replayed.code, Some(1), "{}", replayed.describe());
    assert!(
        replayed.stderr.contains("replay needs the disk buffer"),
        "{}",
        replayed.describe()
    );
}

#[test]
fn a_plugin_that_traps_on_every_batch_backs_off_and_shows_it_in_health() {
    let config = lone_evil("crashy", "panic");
    let sluice = TestSluice::with_config(config.toml()).spawn();
    let writes = 30;
    let mut statuses = Vec::new();
    for n in 0..writes {
        let response = sluice.write("e", &format!("evil v={n}i {}\n", T0 + n));
        if response.status == 503 {
            assert_eq!(response.header("retry-after"), Some("1"));
            assert!(
                response.body.contains("backing off"),
                "{}",
                response.describe()
            );
        }
        statuses.push(response.status);
    }
    let acknowledged = statuses.iter().filter(|s| **s == 204).count();
    let refused = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(acknowledged + refused, statuses.len(), "{statuses:?}");
    // The first faults restart at once (their batches are dead-lettered, so kept).
    assert!(statuses[..3].iter().all(|s| *s == 204), "{statuses:?}");
    assert!(refused > 0, "no backoff: {statuses:?}");
    let plugin = &sluice.health()["active_chain"]["plugins"][0];
    let faults = plugin["faults"].as_u64().unwrap_or(u64::MAX);
    assert!(
        (3..writes.unsigned_abs()).contains(&faults) && faults == acknowledged as u64,
        "each fault is one instance start, bounded by the backoff: {plugin}"
    );
    assert!(plugin["consecutive_faults"].as_u64() >= Some(3), "{plugin}");
    assert!(
        plugin["last_fault"]
            .as_str()
            .is_some_and(|m| m.contains("panicked on purpose")),
        "{plugin}"
    );
    assert_eq!(
        sluice.metric("sluice_dead_lettered_batches_total"),
        Some(acknowledged as f64)
    );
    // Once the backoff ends, a batch the plugin handles starts a fresh instance and
    // clears the record.
    let calm = wait_until(LONG, || {
        let response = sluice.write("e", &format!("calm v=1i {T0}\n"));
        (response.status == 204).then_some(())
    });
    assert!(calm.is_some(), "the plugin never ran again");
    let plugin = &sluice.health()["active_chain"]["plugins"][0];
    assert_eq!(plugin["consecutive_faults"], 0, "{plugin}");
    assert_eq!(plugin["backoff_ms"], serde_json::Value::Null, "{plugin}");
}
