//! The plugin author's loop with the real tools, outside the repository: `sluice plugin
//! new` scaffolds a crate whose test passes as generated, `sluice plugin build` makes a
//! component of it and says where, and `sluice plugin test` runs it over line protocol
//! and reports its kv/blob writes and time per point.

use sluice_e2e::{plugin_wasm, run_command, sluice_command};
use std::process::Command;
use std::time::Duration;

/// Building a fresh crate compiles serde and wit-bindgen: minutes on a slow machine.
const BUILD: Duration = Duration::from_secs(600);

#[test]
fn new_build_test_round_trip() {
    let dir = tempfile::Builder::new()
        .prefix("e2e-plugin-")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let created = run_command(
        &mut sluice_command(&["plugin", "new", "demo-plug"], dir.path()),
        Duration::from_secs(30),
    );
    assert_eq!(created.code, Some(0), "{}", created.describe());
    let crate_dir = dir.path().join("demo-plug");

    // The generated test passes natively.
    let tested = run_command(
        Command::new("cargo")
            .args(["test", "--quiet"])
            .current_dir(&crate_dir),
        BUILD,
    );
    assert_eq!(tested.code, Some(0), "cargo test: {}", tested.describe());

    let built = run_command(
        &mut sluice_command(&["plugin", "build", "demo-plug"], dir.path()),
        BUILD,
    );
    assert_eq!(built.code, Some(0), "{}", built.describe());
    let wasm = crate_dir.join("target/wasm32-wasip2/release/demo_plug.wasm");
    assert!(
        wasm.is_file(),
        "no {}: {}",
        wasm.display(),
        built.describe()
    );
    assert!(
        built.stdout.contains(&wasm.to_string_lossy().into_owned()) && built.stdout.contains("KiB"),
        "path and size: {}",
        built.describe()
    );

    let input = dir.path().join("in.lp");
    std::fs::write(
        &input,
        "flood,node=n1 d=1i 1\ndebug v=1 2\nflood,node=n2 d=2i\n",
    )
    .unwrap_or_else(|e| panic!("writing input: {e}"));
    let wasm_arg = wasm.to_string_lossy().into_owned();
    let input_arg = input.to_string_lossy().into_owned();
    let run = run_command(
        &mut sluice_command(
            &[
                "plugin",
                "test",
                &wasm_arg,
                "--input",
                &input_arg,
                "--config",
                "drop_measurements=[\"debug\"]",
            ],
            dir.path(),
        ),
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.describe());
    assert_eq!(lines[0], "flood,node=n1 d=1i 1");
    assert!(lines[1].starts_with("flood,node=n2 d=2i "), "{}", lines[1]);
    assert!(
        run.stderr.contains("3 point(s) in, 2 out") && run.stderr.contains("ns/point"),
        "{}",
        run.describe()
    );
}

#[test]
fn plugin_test_shows_kv_and_blob_writes_and_plugin_errors() {
    let evil = plugin_wasm("evil").to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let input = dir.path().join("in.lp");
    std::fs::write(&input, "http,label=login d=1i 1\n").unwrap_or_else(|e| panic!("{e}"));
    let input_arg = input.to_string_lossy().into_owned();
    let probe = run_command(
        &mut sluice_command(
            &[
                "plugin",
                "test",
                &evil,
                "--config",
                "mode=probe",
                "--input",
                &input_arg,
            ],
            dir.path(),
        ),
        Duration::from_secs(60),
    );
    assert_eq!(probe.code, Some(0), "{}", probe.describe());
    for effect in ["# kv assign-ids", "# kv incr", "# kv set", "# blob put"] {
        assert!(
            probe.stderr.contains(effect),
            "no {effect}: {}",
            probe.describe()
        );
    }

    let attack = dir.path().join("attack.lp");
    std::fs::write(&attack, "evil v=1 1\n").unwrap_or_else(|e| panic!("{e}"));
    let attack_arg = attack.to_string_lossy().into_owned();
    let looped = run_command(
        &mut sluice_command(
            &[
                "plugin",
                "test",
                &evil,
                "--config",
                "mode=loop",
                "--input",
                &attack_arg,
                "--timeout",
                "200ms",
            ],
            dir.path(),
        ),
        Duration::from_secs(60),
    );
    assert_eq!(looped.code, Some(1), "{}", looped.describe());
    assert!(
        looped.stderr.contains("ran past its 200ms timeout"),
        "{}",
        looped.describe()
    );
}
