//! The S3 blob store (`[blob] kind = "s3"`) behind trace-offload, against a real
//! S3-compatible server (moto) over HTTP: offloaded bodies read back byte-identical from
//! the bucket through the URL the point holds, and an S3 outage is a 503 +
//! `Retry-After` to clients (no acknowledged point lost) that heals by itself.

use sluice_e2e::{
    FieldValue, LONG, Point, SluiceConfig, TestInflux, TestS3, TestSluice, assert_all_stored,
    plugin_wasm, to_lines, wait_until, write_through_outage,
};

const T0: i64 = 1_700_000_000_000_000_000;
const BUCKET: &str = "traces";

/// A relay offloading `trace` fields of 64 bytes or more to `s3`, forwarding to `influx`.
fn spawn_relay(influx: &TestInflux, s3: &TestS3) -> TestSluice {
    let mut toml = SluiceConfig::new()
        .plugin(
            "offload",
            &plugin_wasm("trace-offload"),
            "config = { fields = [\"trace\"], min_bytes = 64, prefix = \"traces/\" }\n",
        )
        .output_v1("central", &influx.url())
        .toml();
    toml.push_str(&format!(
        "\n[blob]\nkind = \"s3\"\nbucket = \"{BUCKET}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n",
        s3.url()
    ));
    TestSluice::with_config(toml)
        .env("AWS_ACCESS_KEY_ID", "e2e")
        .env("AWS_SECRET_ACCESS_KEY", "e2e-secret")
        .spawn()
}

/// A stack trace `lines` frames long, with quotes and backslashes to escape.
fn trace(seed: usize, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("at C{seed}.m{i}(\"C:\\src\\C{seed}.java\":{i})\n"))
        .collect()
}

#[test]
fn offloaded_traces_read_back_byte_identical_from_s3() {
    let influx = TestInflux::start();
    influx.create_db("apm");
    let s3 = TestS3::start();
    s3.create_bucket(BUCKET);
    let sluice = spawn_relay(&influx, &s3);

    let traces: Vec<String> = (0..3).map(|i| trace(i, 20 + i)).collect();
    let mut points: Vec<Point> = traces
        .iter()
        .zip(0i64..)
        .map(|(t, i)| {
            Point::new("err")
                .tag("label", &format!("checkout-{i}"))
                .field("code", 500i64)
                .field("trace", t.as_str())
                .at(T0 + i)
        })
        .collect();
    // Small enough to stay in the point.
    points.push(
        Point::new("err")
            .tag("label", "cart")
            .field("trace", "not found")
            .at(T0 + 9),
    );
    let response = sluice.write("apm", &to_lines(&points));
    assert_eq!(response.status, 204, "{}", response.describe());

    let stored = wait_until(LONG, || {
        let points = influx.try_points("apm", "err").ok()?;
        (points.len() == 4).then_some(points)
    })
    .unwrap_or_else(|| panic!("points not stored:\n{}", sluice.log()));
    for (point, trace) in stored.iter().zip(&traces) {
        let Some(FieldValue::Str(url)) = point.fields.get("trace_url") else {
            panic!("no trace_url in {point:?}");
        };
        assert!(
            url.starts_with(&format!("{}/{BUCKET}/traces/", s3.url())),
            "{url}"
        );
        assert!(!point.fields.contains_key("trace"), "{point:?}");
        let body = s3
            .try_get_url(url)
            .unwrap_or_else(|e| panic!("reading {url}: {e}"));
        assert_eq!(String::from_utf8_lossy(&body), *trace, "{url}");
    }
    assert_eq!(
        stored[3].fields.get("trace"),
        Some(&FieldValue::Str("not found".to_owned()))
    );
    let keys = s3
        .try_keys(BUCKET)
        .unwrap_or_else(|e| panic!("listing: {e}"));
    assert_eq!(keys.len(), 3, "{keys:?}");

    // A resent batch (a client retry) writes the same objects, not new ones.
    let response = sluice.write("apm", &to_lines(&points));
    assert_eq!(response.status, 204, "{}", response.describe());
    let keys_again = s3
        .try_keys(BUCKET)
        .unwrap_or_else(|e| panic!("listing: {e}"));
    assert_eq!(keys_again, keys);
}

#[test]
fn an_s3_outage_is_a_503_and_heals_without_losing_acknowledged_points() {
    let influx = TestInflux::start();
    influx.create_db("apm");
    let s3 = TestS3::start();
    s3.create_bucket(BUCKET);
    let sluice = spawn_relay(&influx, &s3);
    let batch = |k: i64| -> Vec<Point> {
        (0..5)
            .map(|i| {
                Point::new("err")
                    .tag("label", &format!("l{i}"))
                    .field("trace", trace(usize::try_from(k).unwrap_or(0), 4).as_str())
                    .at(T0 + k * 10 + i)
            })
            .collect()
    };
    let acked = write_through_outage(&sluice, "apm", batch, 25, |down| {
        if down {
            s3.pause();
        } else {
            s3.resume();
        }
    });
    let stored = assert_all_stored(&influx, "apm", "err", &acked, &sluice.log());
    // Every stored pointer leads to its body.
    for point in stored.iter().take(10) {
        let Some(FieldValue::Str(url)) = point.fields.get("trace_url") else {
            panic!("no trace_url in {point:?}");
        };
        s3.try_get_url(url)
            .unwrap_or_else(|e| panic!("reading {url}: {e}"));
    }
}
