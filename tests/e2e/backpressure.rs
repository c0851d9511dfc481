//! A full buffer refuses with 503 + `Retry-After` (never a silent drop), and accepts again
//! once the output has drained it.

use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, assert_subset, flood_points, to_lines,
    wait_until,
};

const T0: i64 = 1_700_000_000_000_000_000;

fn full_buffer_then_drain(segment_size: Option<&str>) {
    let mut influx = TestInflux::start();
    influx.create_db("full");
    influx.stop();
    let mut config = SluiceConfig::new()
        .max_size("1MiB")
        .output_v1("central", &influx.url());
    if let Some(size) = segment_size {
        config = config.segment_size(size);
    }
    let sluice = TestSluice::with_config(config.toml()).spawn();

    // ~90 KB per batch: the buffer is full after a dozen; 60 is far past it.
    let mut acked: Vec<Point> = Vec::new();
    let mut sent: Vec<Point> = Vec::new();
    let mut refused = None;
    for b in 0..60 {
        let points = flood_points(1_000, T0 + b * 1_000, "full");
        let response = sluice.write("full", &to_lines(&points));
        sent.extend(points.iter().cloned());
        if response.status == 204 {
            acked.extend(points);
        } else {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a 1 MiB buffer with its output down never refused a write");
    assert_eq!(refused.status, 503, "{}", refused.describe());
    let retry_after = refused
        .header("retry-after")
        .unwrap_or_else(|| panic!("503 without Retry-After: {:?}", refused.headers));
    assert!(
        retry_after.trim().parse::<u64>().is_ok(),
        "Retry-After is not a number of seconds: {retry_after:?}"
    );
    assert!(
        refused.json().get("error").is_some(),
        "503 body: {}",
        refused.describe()
    );
    assert!(
        refused.header("x-influxdb-error").is_some(),
        "503 without X-Influxdb-Error"
    );
    assert!(
        !acked.is_empty(),
        "nothing was accepted before the buffer filled"
    );
    // A load balancer asking /health hears that writes are refused.
    let health = sluice.get("/health");
    assert_eq!(health.status, 503, "{}", health.describe());
    assert_eq!(health.json()["status"], "fail");

    // Output back: everything acknowledged arrives, then writes are accepted again.
    influx.restart();
    influx.expect_contains("full", "full", &acked);
    let again = flood_points(1_000, T0 + 1_000_000, "full");
    let accepted = wait_until(LONG, || {
        (sluice.write("full", &to_lines(&again)).status == 204).then_some(())
    });
    assert!(
        accepted.is_some(),
        "writes were still refused after the buffer drained"
    );
    assert_eq!(sluice.health()["status"], "pass");
    acked.extend(again.iter().cloned());
    sent.extend(again);
    let stored = influx.expect_contains("full", "full", &acked);
    assert_subset(&stored, &sent, "stored points vs. sent points");
}

#[test]
fn full_buffer_answers_503_then_drains() {
    full_buffer_then_drain(None);
}

#[test]
fn full_buffer_with_small_segments_answers_503_then_drains() {
    full_buffer_then_drain(Some("128KiB"));
}
