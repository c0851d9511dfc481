//! The process: readiness and operational endpoints, SIGTERM → exit 0 (also with the store
//! down, keeping what it buffered), one process per buffer directory, the memory buffer.

use sluice_e2e::{
    LONG, SluiceConfig, TestInflux, TestSluice, dead_url, flood_points, metric_sum, to_lines,
    wait_until,
};
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;

#[test]
fn endpoints_answer_and_sigterm_exits_zero() {
    let influx = TestInflux::start();
    influx.create_db("life");
    let mut sluice = TestSluice::relaying_to(&influx);

    for method in ["GET", "HEAD"] {
        let ping = sluice.request(method, "/ping").send();
        assert_eq!(ping.status, 204, "{method} /ping: {}", ping.describe());
        assert!(
            ping.header("x-influxdb-version").is_some(),
            "{method} /ping: {:?}",
            ping.headers
        );
        assert_eq!(
            ping.header("x-influxdb-build"),
            Some("Sluice"),
            "{method} /ping"
        );
    }

    let points = flood_points(1_000, T0, "life");
    assert_eq!(sluice.write("life", &to_lines(&points)).status, 204);
    influx.expect_points("life", "life", &points);

    let health = sluice.health();
    assert!(health["status"].is_string(), "/health: {health}");
    assert!(
        health.get("buffer").is_some(),
        "/health has no buffer: {health}"
    );
    assert!(
        health["outputs"].is_array(),
        "/health has no outputs list: {health}"
    );
    assert!(
        health["outputs"].to_string().contains("central"),
        "/health does not name the output: {health}"
    );

    let delivered = wait_until(LONG, || {
        let text = sluice.metrics();
        let received = metric_sum(&text, "sluice_points_received_total", &[])?;
        let out = metric_sum(
            &text,
            "sluice_output_points_total",
            &[("output", "central")],
        )?;
        (received >= 1_000.0 && out >= 1_000.0).then_some(())
    });
    let text = sluice.metrics();
    assert!(
        delivered.is_some(),
        "points received/forwarded not counted:\n{text}"
    );
    for name in [
        "sluice_points_received_total",
        "sluice_requests_total",
        "sluice_buffer_bytes",
    ] {
        assert!(
            metric_sum(&text, name, &[]).is_some(),
            "{name} missing from /metrics:\n{text}"
        );
    }

    assert!(
        sluice.log().contains("listening"),
        "no 'listening' line in the log"
    );
    let status = sluice.terminate();
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status}");
}

#[test]
fn sigterm_with_the_store_down_exits_zero_and_keeps_the_buffer() {
    let mut influx = TestInflux::start();
    influx.create_db("keep");
    influx.stop();
    let mut sluice = TestSluice::relaying_to(&influx);
    let points = flood_points(2_000, T0, "keep");
    assert_eq!(sluice.write("keep", &to_lines(&points)).status, 204);

    // Retrying forever must not keep it from stopping.
    let status = sluice.terminate();
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status}");

    influx.restart();
    sluice.restart();
    influx.expect_points("keep", "keep", &points);
    let status = sluice.terminate();
    assert_eq!(
        status.code(),
        Some(0),
        "second exit after SIGTERM: {status}"
    );
}

#[test]
fn a_second_process_on_the_same_buffer_dir_is_refused() {
    let first =
        TestSluice::with_config(SluiceConfig::new().output_v1("central", &dead_url()).toml())
            .spawn();
    let shared = first.dir().join("buffer").to_string_lossy().into_owned();
    let mut second = TestSluice::with_config(
        SluiceConfig::new()
            .buffer_dir(&shared)
            .output_v1("central", &dead_url())
            .toml(),
    )
    .spawn_unready();
    let status = second.wait_exit(Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        panic!(
            "a second sluice on a locked buffer dir kept running:\n{}",
            second.log()
        )
    });
    assert!(!status.success(), "the second sluice exited with success");
    let response = first.write("db", "m v=1 1\n");
    assert_eq!(
        response.status,
        204,
        "the first sluice: {}",
        response.describe()
    );
}

#[test]
fn memory_buffer_forwards_too() {
    let influx = TestInflux::start();
    influx.create_db("mem");
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .memory_buffer()
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn();
    let points = flood_points(3_000, T0, "mem");
    assert_eq!(sluice.write("mem", &to_lines(&points)).status, 204);
    influx.expect_points("mem", "mem", &points);
}
