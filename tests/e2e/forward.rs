//! Forwarding: fan-out to every output, and a v2 output (a Sluice relaying to a Sluice).

use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, flood_points, metric_sum, to_lines,
    wait_until,
};

const T0: i64 = 1_700_000_000_000_000_000;

#[test]
fn fan_out_delivers_every_point_to_every_output() {
    let (a, b) = (TestInflux::start(), TestInflux::start());
    a.create_db("fan");
    b.create_db("fan");
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .output_v1("a", &a.url())
            .output_v1("b", &b.url())
            .toml(),
    )
    .spawn();
    let mut sent = Vec::new();
    for batch in 0..4 {
        let points = flood_points(1_000, T0 + batch * 1_000, "fan");
        let response = sluice.write("fan", &to_lines(&points));
        assert_eq!(response.status, 204, "{}", response.describe());
        sent.extend(points);
    }
    a.expect_points("fan", "fan", &sent);
    b.expect_points("fan", "fan", &sent);

    // Each output counts what it delivered.
    let counted = wait_until(LONG, || {
        let text = sluice.metrics();
        let a = metric_sum(&text, "sluice_output_points_total", &[("output", "a")])?;
        let b = metric_sum(&text, "sluice_output_points_total", &[("output", "b")])?;
        (a >= 4_000.0 && b >= 4_000.0).then_some(())
    });
    assert!(
        counted.is_some(),
        "sluice_output_points_total per output:\n{}",
        sluice.metrics()
    );
}

#[test]
fn v2_output_relays_through_a_second_sluice() {
    let influx = TestInflux::start();
    influx.create_db("v2db");
    let regional = TestSluice::with_config(
        SluiceConfig::new()
            .tokens(&["tok-b"])
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn();
    let edge = TestSluice::with_config(
        SluiceConfig::new()
            .output_v2("regional", &regional.url(), "o", "tok-b")
            .toml(),
    )
    .spawn();

    let plain = flood_points(2_000, T0, "relayed");
    let response = edge.write("v2db", &to_lines(&plain));
    assert_eq!(response.status, 204, "{}", response.describe());
    // With an explicit rp and a coarse precision on the way in.
    let with_rp: Vec<Point> = (0..50)
        .map(|i| {
            Point::new("relayed_rp")
                .field("v", i)
                .at(T0 + i * 1_000_000_000)
        })
        .collect();
    let body: String = with_rp
        .iter()
        .map(|p| p.to_line_in(1_000_000_000) + "\n")
        .collect();
    let response = edge
        .write_with("v2db")
        .rp("autogen")
        .precision("s")
        .body(body)
        .send();
    assert_eq!(response.status, 204, "{}", response.describe());

    influx.expect_points("v2db", "relayed", &plain);
    influx.expect_points("v2db", "relayed_rp", &with_rp);
}

/// A client that writes a point, gets its 204 and writes it again keeps the second
/// value, although the output has several requests in flight (a store may apply
/// concurrent requests in any order, and retries back off with jitter): a request waits
/// for an earlier one in flight that writes one of its points.
#[test]
fn sequential_overwrites_keep_the_value_written_last() {
    let mut influx = TestInflux::start();
    influx.create_db("ow");
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .output(
                "central",
                &influx.url(),
                "concurrency = 8\nbatch_points = 1\n",
            )
            .toml(),
    )
    .spawn();
    // Written while the store is down: the output then has eight requests in flight,
    // several of them overwriting the same two points, all retrying.
    influx.stop();
    const SERIES: i64 = 2;
    const WRITES: i64 = 4;
    for v in 0..WRITES {
        for k in 0..SERIES {
            let response = sluice.write("ow", &format!("ow,k=s{k} v={v}i {T0}\n"));
            assert_eq!(response.status, 204, "{}", response.describe());
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    influx.restart();
    let delivered = wait_until(LONG, || {
        let text = sluice.metrics();
        let n = metric_sum(
            &text,
            "sluice_output_points_total",
            &[("output", "central")],
        )?;
        (n >= (SERIES * WRITES) as f64).then_some(())
    });
    assert!(delivered.is_some(), "{}", sluice.metrics());
    let result = influx.query("SELECT last(v) FROM ow GROUP BY k", "ow");
    let values: Vec<i64> = result
        .pointer("/results/0/series")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.pointer("/values/0/1").and_then(serde_json::Value::as_i64))
        .collect();
    let last = WRITES - 1;
    assert_eq!(values.len(), SERIES as usize, "{result}");
    assert!(
        values.iter().all(|&v| v == last),
        "stored {values:?}, want {last} everywhere"
    );
}
