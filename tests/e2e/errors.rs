//! Writes that are refused in part or whole: InfluxDB's status codes and JSON bodies, the
//! `X-Influxdb-Error` header, and good lines of a partial write still stored.

use sluice_e2e::{
    LONG, Point, Response, SluiceConfig, TestInflux, TestSluice, dead_url, flood_lines, to_lines,
    wait_until,
};

const T0: i64 = 1_700_000_000_000_000_000;

fn assert_error(response: &Response, status: u16, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.describe());
    assert!(
        response.header("x-influxdb-error").is_some(),
        "{what}: no X-Influxdb-Error header: {:?}",
        response.headers
    );
}

/// A v1 error body: `{"error": "..."}`; returns the message.
fn v1_error(response: &Response, what: &str) -> String {
    let json = response.json();
    json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no \"error\" string in {json}"))
        .to_owned()
}

#[test]
fn partial_write_is_400_and_good_lines_are_stored() {
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = TestSluice::relaying_to(&influx);
    let good: Vec<Point> = (0..3)
        .map(|i| Point::new("okm").tag("k", "v").field("v", i).at(T0 + i))
        .collect();
    let body = format!(
        "{}this is not line protocol\n{}",
        to_lines(&good[..1]),
        to_lines(&good[1..])
    );
    let response = sluice.write("bar", &body);
    assert_error(&response, 400, "partial write");
    let message = v1_error(&response, "partial write");
    assert!(
        message.contains("partial write") && message.contains("dropped=1"),
        "partial write: {message}"
    );
    assert!(
        message.contains("this is not line protocol"),
        "the error should quote the bad line: {message}"
    );

    // v2 partial write: same acceptance, v2 error body.
    let good_v2: Vec<Point> = (0..2)
        .map(|i| Point::new("okv2").field("v", i).at(T0 + i))
        .collect();
    let body = format!(
        "{}bad line here\n{}",
        to_lines(&good_v2[..1]),
        to_lines(&good_v2[1..])
    );
    let response = sluice.write_v2("o", "bar").body(body).send();
    assert_error(&response, 400, "v2 partial write");
    let json = response.json();
    assert_eq!(json["code"], "invalid", "v2 partial write: {json}");
    let message = json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("partial write") && message.contains("dropped=1"),
        "v2 partial write: {json}"
    );

    influx.expect_points("bar", "okm", &good);
    influx.expect_points("bar", "okv2", &good_v2);
    let metrics = sluice.metrics();
    assert!(
        metrics.contains("sluice_points_dropped_total"),
        "no sluice_points_dropped_total in /metrics:\n{metrics}"
    );
}

#[test]
fn refused_requests_get_influxdb_status_codes() {
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .max_body("1MiB")
            .output_v1("central", &dead_url())
            .toml(),
    )
    .spawn();

    // Every line bad: 400 without "partial".
    let response = sluice.write("bar", "not line protocol\nneither=this\n");
    assert_error(&response, 400, "all lines bad");
    let message = v1_error(&response, "all lines bad");
    assert!(
        message.contains("unable to parse") && !message.contains("partial write"),
        "all lines bad: {message}"
    );

    // Missing db (v1) / bucket (v2).
    let response = sluice.request("POST", "/write").body("m v=1 1\n").send();
    assert_error(&response, 400, "missing db");
    v1_error(&response, "missing db");
    let response = sluice
        .request("POST", "/api/v2/write")
        .param("org", "o")
        .body("m v=1 1\n")
        .send();
    assert_error(&response, 400, "missing bucket");
    assert_eq!(
        response.json()["code"],
        "invalid",
        "{}",
        response.describe()
    );

    // Bad precision.
    let response = sluice
        .write_with("bar")
        .precision("xyz")
        .body("m v=1 1\n")
        .send();
    assert_error(&response, 400, "bad v1 precision");
    v1_error(&response, "bad v1 precision");
    let response = sluice
        .write_v2("o", "bar")
        .precision("xyz")
        .body("m v=1 1\n")
        .send();
    assert_error(&response, 400, "bad v2 precision");
    assert_eq!(
        response.json()["code"],
        "invalid",
        "{}",
        response.describe()
    );

    // Empty body: nothing to do, success.
    let response = sluice.write("bar", "");
    assert_eq!(response.status, 204, "empty body: {}", response.describe());
}

#[test]
fn bodies_over_max_body_are_413_raw_and_after_gzip() {
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .max_body("1MiB")
            .output_v1("central", &dead_url())
            .toml(),
    )
    .spawn();

    // Valid line protocol, 1.5 MiB.
    let mut big = String::new();
    let mut i = 0;
    while big.len() < 3 * 512 * 1024 {
        big.push_str(&flood_lines(100, T0 + i * 100, "big"));
        i += 1;
    }
    let response = sluice.write("bar", &big);
    assert_error(&response, 413, "raw body over max_body");

    // A gzip bomb: ~8 MiB of text that compresses to a few KiB.
    let bomb_text = "m,host=aaaaaaaaaaaaaaaa v=1 1\n".repeat(8 * 1024 * 1024 / 29);
    let response = sluice.write_with("bar").gzip().body(bomb_text).send();
    assert_error(&response, 413, "gzip body inflating over max_body");

    // Under the limit, raw and gzipped, still fine.
    let small = flood_lines(2_000, T0, "small");
    assert!(small.len() < 1024 * 1024);
    let response = sluice.write("bar", &small);
    assert_eq!(
        response.status,
        204,
        "body under max_body: {}",
        response.describe()
    );
    let response = sluice.write_with("bar").gzip().body(small).send();
    assert_eq!(
        response.status,
        204,
        "gzip under max_body: {}",
        response.describe()
    );
}

/// `u` integers: a stock InfluxDB 1.x answers "invalid number", so Sluice does too unless
/// `[server] accept_unsigned = true` (for InfluxDB 2.x outputs). With it on and a 1.x
/// store, the store refuses the batch and it lands in the dead-letter store with the
/// store's message: the reason the default is off.
#[test]
fn unsigned_integers_are_refused_unless_accepted() {
    let influx = TestInflux::start();
    influx.create_db("u");
    let config = SluiceConfig::new()
        .output_v1("influx", &influx.url())
        .toml();
    let sluice = TestSluice::with_config(config.clone()).spawn();
    let direct = influx.write("u", "m v=5u 1\n");
    let relayed = sluice.write("u", "m v=5u 1\nm w=1i 2\n");
    assert_eq!(
        (direct.status, relayed.status),
        (400, 400),
        "influxd: {}\nsluice: {}",
        direct.describe(),
        relayed.describe()
    );
    let message = v1_error(&relayed, "u integer");
    assert!(
        message.starts_with("partial write: unable to parse 'm v=5u 1': invalid number"),
        "{message}"
    );
    drop(sluice);

    let accepting =
        TestSluice::with_config(config.replace("[server]\n", "[server]\naccept_unsigned = true\n"))
            .spawn();
    let response = accepting.write("u", "m v=7u 3\n");
    assert_eq!(response.status, 204, "{}", response.describe());
    wait_until(LONG, || {
        let list = accepting.dlq(&["list"]);
        list.stdout.contains("invalid number").then_some(())
    })
    .unwrap_or_else(|| panic!("not dead-lettered:\n{}", accepting.log()));
}

/// A field with two types in one request: influxd refuses it with 400, so Sluice must
/// not answer 204. Sluice drops the later point as influxd's store drops it once the
/// field exists, answers with influxd's partial-write message, and stores the rest.
#[test]
fn a_field_type_conflict_inside_a_request_is_a_400_not_a_204() {
    let influx = TestInflux::start();
    influx.create_db("direct");
    influx.create_db("typed");
    let sluice = TestSluice::relaying_to(&influx);
    let body = format!(
        "tc,k=a f=1 {T0}\ntc,k=b f=\"s\" {}\ntc,k=c f=3 {}\n",
        T0 + 1,
        T0 + 2
    );
    let direct = influx.write("direct", &body);
    assert_eq!(direct.status, 400, "influxd: {}", direct.describe());

    let response = sluice.write("typed", &body);
    assert_error(&response, 400, "type conflict");
    assert_eq!(
        v1_error(&response, "type conflict"),
        "partial write: field type conflict: input field \"f\" on measurement \"tc\" is type string, already exists as type float dropped=1"
    );
    let stored = wait_until(LONG, || {
        (influx.count("typed", "tc", "f") == 2).then_some(())
    });
    assert!(
        stored.is_some(),
        "stored {}",
        influx.count("typed", "tc", "f")
    );
    // Now that the field exists, influxd answers the same to the same body.
    let again = influx.write("typed", &body);
    assert_eq!(again.status, 400, "{}", again.describe());
    assert_eq!(
        again.json()["error"],
        "partial write: field type conflict: input field \"f\" on measurement \"tc\" is type string, already exists as type float dropped=1"
    );
}

/// When the store already holds the field with the type of a later point, the store, not
/// the first point, decides which points are dropped: through Sluice the same points are
/// stored as straight into influxd (the client still hears 400). Points in different
/// hours may land in different shards, where types are separate: 204, as influxd answers.
#[test]
fn the_store_decides_which_point_of_a_type_conflict_it_keeps() {
    let influx = TestInflux::start();
    influx.create_db("direct");
    influx.create_db("typed");
    let sluice = TestSluice::relaying_to(&influx);
    let first = format!("tk,k=z f=0 {T0}\n");
    assert_eq!(influx.write("direct", &first).status, 204);
    assert_eq!(sluice.write("typed", &first).status, 204);
    let stored = wait_until(LONG, || {
        (influx.count("typed", "tk", "f") == 1).then_some(())
    });
    assert!(stored.is_some(), "the first point was not stored");

    // A string first, then floats: the store keeps the floats.
    let body = format!(
        "tk,k=a f=\"s\" {}\ntk,k=b f=2 {}\ntk,k=c f=3 {}\n",
        T0 + 1,
        T0 + 2,
        T0 + 3
    );
    let direct = influx.write("direct", &body);
    assert_eq!(direct.status, 400, "influxd: {}", direct.describe());
    let response = sluice.write("typed", &body);
    assert_error(&response, 400, "type conflict");
    let want = influx.count("direct", "tk", "f");
    assert_eq!(want, 3, "influxd kept the floats");
    let stored = wait_until(LONG, || {
        (influx.count("typed", "tk", "f") == want).then_some(())
    });
    assert!(
        stored.is_some(),
        "stored {} of {want}",
        influx.count("typed", "tk", "f")
    );

    // Two types a shard apart (2023 and 2020): both kept, 204.
    let apart = "ts v=1 1700000000000000000\nts v=\"s\" 1600000000000000000\n";
    assert_eq!(influx.write("direct", apart).status, 204);
    let response = sluice.write("typed", apart);
    assert_eq!(response.status, 204, "{}", response.describe());
}

/// A database name InfluxDB 1.x can never hold gets influxd's 404 at the door, not a 204
/// and a dead letter.
#[test]
fn a_database_name_no_store_can_hold_is_404_as_from_influxd() {
    let influx = TestInflux::start();
    let sluice = TestSluice::relaying_to(&influx);
    let body = format!("m v=1 {T0}\n");
    for db in ["w/slash", "w\\bs", "new\nline", ".."] {
        let direct = influx.write(db, &body);
        let relayed = sluice.write(db, &body);
        assert_eq!(direct.status, 404, "influxd {db:?}: {}", direct.describe());
        assert_eq!(
            (relayed.status, relayed.json()),
            (direct.status, direct.json()),
            "{db:?}"
        );
    }
}
