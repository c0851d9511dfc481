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
