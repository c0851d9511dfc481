//! Tokens: every accepted spelling (Token header, Basic, u/p parameters, v2 Token) works,
//! everything else is 401 with InfluxDB's JSON, and only accepted writes are stored.

use sluice_e2e::{Point, SluiceConfig, TestInflux, TestSluice, dead_url};

const T0: i64 = 1_700_000_000_000_000_000;

fn point(i: i64) -> Point {
    Point::new("authm")
        .tag("case", &i.to_string())
        .field("v", i)
        .at(T0 + i)
}

#[test]
fn tokens_guard_every_write_form() {
    let influx = TestInflux::start();
    influx.create_db("sec");
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .tokens(&["s3cret", "other-token"])
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn();
    let mut accepted = Vec::new();

    // Accepted forms.
    let cases = [
        ("v1 Token header", sluice.write_with("sec").token("s3cret")),
        (
            "v1 second token",
            sluice.write_with("sec").token("other-token"),
        ),
        (
            "v1 Basic",
            sluice.write_with("sec").basic_auth("anyone", "s3cret"),
        ),
        (
            "v1 u/p",
            sluice
                .write_with("sec")
                .param("u", "anyone")
                .param("p", "s3cret"),
        ),
        ("v2 Token", sluice.write_v2("o", "sec").token("s3cret")),
    ];
    for (i, (what, request)) in (0..).zip(cases) {
        let p = point(i);
        let response = request.body(p.to_line()).send();
        assert_eq!(response.status, 204, "{what}: {}", response.describe());
        accepted.push(p);
    }

    // Refused v1 forms: InfluxDB 1.x tells missing credentials from wrong ones.
    let response = sluice.write_with("sec").body(point(99).to_line()).send();
    assert_eq!(response.status, 401, "v1 none: {}", response.describe());
    assert_eq!(
        response.json()["error"],
        "unable to parse authentication credentials",
        "v1 none: {}",
        response.describe()
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Basic realm=\"InfluxDB\""),
        "v1 none: {}",
        response.describe()
    );
    let cases = [
        ("v1 wrong Token", sluice.write_with("sec").token("wrong")),
        (
            "v1 Basic wrong",
            sluice.write_with("sec").basic_auth("anyone", "wrong"),
        ),
        (
            "v1 u/p wrong",
            sluice
                .write_with("sec")
                .param("u", "anyone")
                .param("p", "wrong"),
        ),
    ];
    for (i, (what, request)) in (100..).zip(cases) {
        let response = request.body(point(i).to_line()).send();
        assert_eq!(response.status, 401, "{what}: {}", response.describe());
        assert_eq!(
            response.json()["error"],
            "authorization failed",
            "{what}: {}",
            response.describe()
        );
        assert!(
            response.header("x-influxdb-error").is_some(),
            "{what}: no X-Influxdb-Error"
        );
    }

    // Refused v2 forms.
    let cases = [
        ("v2 none", sluice.write_v2("o", "sec")),
        ("v2 wrong", sluice.write_v2("o", "sec").token("wrong")),
    ];
    for (i, (what, request)) in (200..).zip(cases) {
        let response = request.body(point(i).to_line()).send();
        assert_eq!(response.status, 401, "{what}: {}", response.describe());
        assert_eq!(
            response.json()["code"],
            "unauthorized",
            "{what}: {}",
            response.describe()
        );
        assert!(
            response.header("x-influxdb-error").is_some(),
            "{what}: no X-Influxdb-Error"
        );
    }

    // No auth on the operational endpoints.
    assert_eq!(sluice.get("/ping").status, 204);
    assert_eq!(sluice.request("HEAD", "/ping").send().status, 204);
    assert_eq!(sluice.get("/health").status, 200);
    assert_eq!(sluice.get("/metrics").status, 200);

    // Exactly the accepted points, none of the refused ones.
    influx.expect_points("sec", "authm", &accepted);
}

#[test]
fn token_may_come_from_the_environment() {
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .tokens(&["${SLUICE_E2E_TOKEN}"])
            .output_v1("central", &dead_url())
            .toml(),
    )
    .env("SLUICE_E2E_TOKEN", "from-env")
    .spawn();
    let ok = sluice
        .write_with("db")
        .token("from-env")
        .body("m v=1 1\n")
        .send();
    assert_eq!(ok.status, 204, "{}", ok.describe());
    let literal = sluice
        .write_with("db")
        .token("${SLUICE_E2E_TOKEN}")
        .body("m v=1 1\n")
        .send();
    assert_eq!(literal.status, 401, "{}", literal.describe());
}
