//! Every precision of both write APIs is normalised to nanoseconds; a point without a
//! timestamp gets the time Sluice received it.

use sluice_e2e::{Point, SluiceConfig, TestInflux, TestSluice, now_ns};

/// A time that is a whole number of hours, so every unit can express it exactly.
const WHOLE_HOUR_NS: i64 = 1_699_999_200_000_000_000;

fn relay(influx: &TestInflux) -> TestSluice {
    TestSluice::with_config(
        SluiceConfig::new()
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn()
}

/// Two points per precision, one unit apart, in a measurement named after the precision.
fn points_for(prefix: &str, precision: &str, unit_ns: i64) -> Vec<Point> {
    (0..2)
        .map(|i| {
            Point::new(&format!("{prefix}_{precision}"))
                .tag("p", precision)
                .field("v", i)
                .at(WHOLE_HOUR_NS + i * unit_ns)
        })
        .collect()
}

fn lines_in(points: &[Point], unit_ns: i64) -> String {
    points
        .iter()
        .map(|p| p.to_line_in(unit_ns) + "\n")
        .collect()
}

#[test]
fn every_v1_precision_is_normalised_to_ns() {
    let influx = TestInflux::start();
    influx.create_db("prec");
    let sluice = relay(&influx);
    let precisions: [(&str, i64); 8] = [
        ("n", 1),
        ("ns", 1),
        ("u", 1_000),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];
    for (precision, unit_ns) in precisions {
        let points = points_for("v1", precision, unit_ns);
        let response = sluice
            .write_with("prec")
            .precision(precision)
            .body(lines_in(&points, unit_ns))
            .send();
        assert_eq!(
            response.status,
            204,
            "precision={precision}: {}",
            response.describe()
        );
    }
    for (precision, unit_ns) in precisions {
        let points = points_for("v1", precision, unit_ns);
        influx.expect_points("prec", &format!("v1_{precision}"), &points);
    }
}

#[test]
fn every_v2_precision_is_normalised_to_ns() {
    let influx = TestInflux::start();
    influx.create_db("prec");
    let sluice = relay(&influx);
    let precisions: [(&str, i64); 4] = [
        ("ns", 1),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
    ];
    for (precision, unit_ns) in precisions {
        let points = points_for("v2", precision, unit_ns);
        let response = sluice
            .write_v2("o", "prec")
            .precision(precision)
            .body(lines_in(&points, unit_ns))
            .send();
        assert_eq!(
            response.status,
            204,
            "precision={precision}: {}",
            response.describe()
        );
    }
    for (precision, unit_ns) in precisions {
        let points = points_for("v2", precision, unit_ns);
        influx.expect_points("prec", &format!("v2_{precision}"), &points);
    }
}

#[test]
fn missing_timestamp_gets_the_receive_time() {
    let influx = TestInflux::start();
    influx.create_db("prec");
    let sluice = relay(&influx);

    let template: Vec<Point> = (0..3)
        .map(|i| Point::new("notime").tag("k", &i.to_string()).field("v", i))
        .collect();
    let body: String = template
        .iter()
        .map(|p| p.to_line_without_time() + "\n")
        .collect();
    let before = now_ns();
    let response = sluice.write("prec", &body);
    let after = now_ns();
    assert_eq!(response.status, 204, "{}", response.describe());

    // With a coarse precision the receive time may be cut to that unit, as InfluxDB does.
    let v2_template = vec![Point::new("notime_s").tag("k", "x").field("v", 1i64)];
    let before_s = now_ns();
    let response = sluice
        .write_v2("o", "prec")
        .precision("s")
        .body(v2_template[0].to_line_without_time())
        .send();
    let after_s = now_ns();
    assert_eq!(response.status, 204, "{}", response.describe());

    let stored = influx.expect_points_any_time("prec", "notime", &template);
    for point in &stored {
        assert!(
            (before..=after).contains(&point.time),
            "time {} not within the request [{before}, {after}]",
            point.time
        );
    }
    let stored = influx.expect_points_any_time("prec", "notime_s", &v2_template);
    let floor = before_s - before_s % 1_000_000_000;
    assert!(
        (floor..=after_s).contains(&stored[0].time),
        "time {} not within the request [{floor}, {after_s}]",
        stored[0].time
    );
}
