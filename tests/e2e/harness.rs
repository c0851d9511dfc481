//! The harness checked against `influxd` alone, without Sluice: what the encoder writes is
//! what InfluxDB stores and what [`TestInflux::points`] reads back, so a failing Sluice test
//! points at Sluice, not at the test's expectations.

use sluice_e2e::{Point, TestInflux, escaped_lines, flood_points, mixed_points, to_lines};

const T0: i64 = 1_700_000_000_000_000_000;

#[test]
fn influxd_stores_exactly_what_the_encoder_writes() {
    let influx = TestInflux::start();
    influx.create_db("ref");
    let flood = flood_points(5_000, T0, "flood");
    let mixed = mixed_points(300, T0);
    let (escaped_text, escaped) = escaped_lines();
    let body = format!("{}{}{escaped_text}", to_lines(&flood), to_lines(&mixed));
    let response = influx.write("ref", &body);
    assert_eq!(response.status, 204, "{}", response.describe());
    influx.expect_points("ref", "flood", &flood);
    influx.expect_points("ref", "mixed stuff", &mixed);
    influx.expect_points("ref", "esc m,x", &escaped);
    assert_eq!(influx.count("ref", "flood", "count"), 5_000);
}

#[test]
fn influxd_keeps_its_data_and_port_across_a_restart() {
    let mut influx = TestInflux::start();
    influx.create_db("ref");
    let points = vec![Point::new("m").field("v", 1i64).at(T0)];
    assert_eq!(influx.write("ref", &to_lines(&points)).status, 204);
    let port = influx.port();
    influx.stop();
    assert_eq!(
        influx.count("ref", "m", "v"),
        0,
        "a stopped influxd answered"
    );
    influx.restart();
    assert_eq!(influx.port(), port);
    influx.expect_points("ref", "m", &points);
    // The store answers 404 for a database that does not exist (what dead-lettering relies on).
    let response = influx.write("no_such_db", "m v=1 1\n");
    assert_eq!(response.status, 404, "{}", response.describe());
}
