//! Writes that succeed: v1 and v2 endpoints, gzip, chunked bodies, concurrent clients; what
//! was sent is compared point by point with what InfluxDB stored.

use sluice_e2e::{
    Http, Point, SluiceConfig, TestInflux, TestSluice, escaped_lines, flood_points, mixed_points,
    to_lines,
};

const T0: i64 = 1_700_000_000_000_000_000;

fn relay(influx: &TestInflux) -> TestSluice {
    TestSluice::with_config(
        SluiceConfig::new()
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn()
}

#[test]
fn v1_write_is_stored_point_for_point() {
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = relay(&influx);

    let flood = flood_points(5_000, T0, "flood");
    let mixed = mixed_points(300, T0);
    let (escaped_text, escaped) = escaped_lines();
    let body = format!("{}{}\n{escaped_text}", to_lines(&flood), to_lines(&mixed));
    let response = sluice.write("bar", &body);
    assert_eq!(response.status, 204, "{}", response.describe());

    influx.expect_points("bar", "flood", &flood);
    influx.expect_points("bar", "mixed stuff", &mixed);
    influx.expect_points("bar", "esc m,x", &escaped);
}

#[test]
fn v2_write_with_token_maps_buckets_to_db_and_rp() {
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .tokens(&["tok-v2"])
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn();

    // bucket "db/rp", millisecond timestamps.
    let ms: Vec<Point> = (0..200)
        .map(|i| {
            Point::new("v2ms")
                .tag("k", "a")
                .field("v", i)
                .at(T0 + i * 1_000_000)
        })
        .collect();
    let body: String = ms.iter().map(|p| p.to_line_in(1_000_000) + "\n").collect();
    let response = sluice
        .write_v2("o", "bar/autogen")
        .precision("ms")
        .token("tok-v2")
        .body(body)
        .send();
    assert_eq!(response.status, 204, "{}", response.describe());

    // bucket "db" alone: the default retention policy; default precision ns.
    let ns: Vec<Point> = (0..200)
        .map(|i| Point::new("v2ns").tag("k", "b").field("v", i).at(T0 + i))
        .collect();
    let response = sluice
        .write_v2("o", "bar")
        .token("tok-v2")
        .body(to_lines(&ns))
        .send();
    assert_eq!(response.status, 204, "{}", response.describe());

    influx.expect_points("bar", "v2ms", &ms);
    influx.expect_points("bar", "v2ns", &ns);
}

#[test]
fn gzip_and_chunked_bodies_are_decoded() {
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = relay(&influx);

    let gz = flood_points(1_000, T0, "gz");
    let response = sluice.write_with("bar").gzip().body(to_lines(&gz)).send();
    assert_eq!(response.status, 204, "gzip: {}", response.describe());

    let chunked = flood_points(1_000, T0, "chunked");
    let response = sluice
        .write_with("bar")
        .chunked()
        .body(to_lines(&chunked))
        .send();
    assert_eq!(response.status, 204, "chunked: {}", response.describe());

    let both = mixed_points(200, T0);
    let response = sluice
        .write_with("bar")
        .gzip()
        .chunked()
        .body(to_lines(&both))
        .send();
    assert_eq!(
        response.status,
        204,
        "gzip+chunked: {}",
        response.describe()
    );

    influx.expect_points("bar", "gz", &gz);
    influx.expect_points("bar", "chunked", &chunked);
    influx.expect_points("bar", "mixed stuff", &both);
}

#[test]
fn rp_parameter_and_blank_lines_are_honoured() {
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = relay(&influx);
    let points = flood_points(10, T0, "withrp");
    let body = format!("\n{}\n\n", to_lines(&points));
    let response = sluice.write_with("bar").rp("autogen").body(body).send();
    assert_eq!(response.status, 204, "{}", response.describe());
    influx.expect_points("bar", "withrp", &points);
}

#[test]
fn concurrent_keep_alive_clients_all_land() {
    const WRITERS: i64 = 4;
    const BATCHES: i64 = 25;
    const PER_BATCH: i64 = 200;
    let influx = TestInflux::start();
    influx.create_db("bar");
    let sluice = relay(&influx);
    let url = sluice.url();

    let batch = |writer: i64, b: i64| -> Vec<Point> {
        (0..PER_BATCH)
            .map(|i| {
                Point::new("conc")
                    .tag("writer", &writer.to_string())
                    .field("v", b * PER_BATCH + i)
                    .at(T0 + b * PER_BATCH + i)
            })
            .collect()
    };
    let handles: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let url = url.clone();
            std::thread::spawn(move || {
                let http = Http::keep_alive();
                (0..BATCHES)
                    .map(|b| {
                        http.request("POST", &format!("{url}/write"))
                            .db("bar")
                            .body(to_lines(&batch(writer, b)))
                            .send()
                            .status
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for handle in handles {
        let statuses = handle.join().expect("writer thread panicked");
        assert!(statuses.iter().all(|s| *s == 204), "statuses: {statuses:?}");
    }
    let expected: Vec<Point> = (0..WRITERS)
        .flat_map(|w| (0..BATCHES).flat_map(move |b| batch(w, b)))
        .collect();
    influx.expect_points("bar", "conc", &expected);
}
