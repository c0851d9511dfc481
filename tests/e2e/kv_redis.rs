//! The Redis kv: two gateways sharing one `redis-server` agree on every label-id whatever
//! order they meet the labels in, one batch of new labels costs one Redis round trip, and
//! a Redis outage is a 503 + `Retry-After` to clients (no acknowledged point lost) that
//! heals by itself when Redis returns. The backend itself (every kv call, namespaces) is
//! also driven directly against the real server, without wasm.

use sluice_e2e::{
    FieldValue, LONG, Point, SluiceConfig, TestInflux, TestRedis, TestSluice, assert_all_stored,
    plugin_wasm, to_lines, wait_until, write_through_outage,
};
use sluice_host::caps::CapabilityError;
use sluice_host::caps::kv::{KvStore, NamespacedKv, RedisKv, RedisKvOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;

/// label-id over the `label` tag, scoped by `flood`, the text kept as a field.
fn label_id(extra: &str) -> String {
    format!(
        "config = {{ tag = \"label\", scope_tags = [\"flood\"], id_tag = \"label_id\", \
         keep_as_field = true{extra} }}\n"
    )
}

/// A relay running label-id against `redis`, forwarding to `influx`.
fn relay_config(influx: &TestInflux, redis: &TestRedis, extra: &str) -> String {
    let mut toml = SluiceConfig::new()
        .plugin("label-id", &plugin_wasm("label-id"), &label_id(extra))
        .output_v1("central", &influx.url())
        .toml();
    toml.push_str(&format!(
        "\n[kv]\nkind = \"redis\"\nurl = \"{}\"\n",
        redis.url()
    ));
    toml
}

/// `tx` points in flood `flood`, one per label, from `node`, at `t0 + i`.
fn label_points(flood: &str, labels: &[String], node: &str, t0: i64) -> Vec<Point> {
    labels
        .iter()
        .zip(0i64..)
        .map(|(label, i)| {
            Point::new("tx")
                .tag("flood", flood)
                .tag("label", label)
                .tag("node", node)
                .field("v", i)
                .at(t0 + i)
        })
        .collect()
}

/// Writes `points` in batches of `batch`, asserting each is accepted.
fn write_all(sluice: &TestSluice, points: &[Point], batch: usize) {
    for chunk in points.chunks(batch) {
        let response = sluice.write("ids", &to_lines(chunk));
        assert_eq!(response.status, 204, "{}", response.describe());
    }
}

/// Every stored `tx` point's (flood, label text) → label_id, asserting one id per label.
fn ids_by_label(points: &[Point]) -> BTreeMap<(String, String), String> {
    let mut ids = BTreeMap::new();
    for p in points {
        let Some(FieldValue::Str(label)) = p.fields.get("label") else {
            panic!("point without the label field: {p:?}");
        };
        let id = p.tags.get("label_id").cloned().unwrap_or_default();
        let flood = p.tags.get("flood").cloned().unwrap_or_default();
        if let Some(previous) = ids.insert((flood, label.clone()), id.clone()) {
            assert_eq!(previous, id, "label {label:?} got two ids");
        }
    }
    ids
}

/// Commands a client can send the kv's way (each one round trip). `INFO commandstats`
/// also counts the `HGET`/`INCR`/`HSET` the assign-ids script runs inside Redis: those
/// are not round trips, so they are left out, as is the measuring `INFO` itself.
const CLIENT_COMMANDS: [&str; 7] = [
    "evalsha",
    "eval",
    "script|load",
    "mget",
    "mset",
    "incrby",
    "ping",
];

/// Round trips to `redis` so far (see [`CLIENT_COMMANDS`]).
fn round_trips(redis: &TestRedis) -> u64 {
    CLIENT_COMMANDS.iter().map(|c| redis.calls(c)).sum()
}

#[test]
fn two_gateways_on_one_redis_agree_on_every_label_id() {
    let influx = TestInflux::start();
    influx.create_db("ids");
    let redis = TestRedis::start();
    let config = relay_config(&influx, &redis, "");
    let a = TestSluice::with_config(config.clone()).spawn();
    let b = TestSluice::with_config(config).spawn();

    // The same 200 labels, met in opposite orders, at the same time.
    let labels: Vec<String> = (0..200).map(|i| format!("GET /item/{i}")).collect();
    let mut reversed = labels.clone();
    reversed.reverse();
    let from_a = label_points("f1", &labels, "a", T0);
    let from_b = label_points("f1", &reversed, "b", T0);
    std::thread::scope(|s| {
        s.spawn(|| write_all(&a, &from_a, 20));
        s.spawn(|| write_all(&b, &from_b, 20));
    });
    let stored = wait_until(LONG, || {
        let points = influx.try_points("ids", "tx").ok()?;
        (points.len() == 400).then_some(points)
    })
    .unwrap_or_else(|| {
        panic!(
            "400 points did not arrive: {:?}",
            influx.try_points("ids", "tx")
        )
    });
    let ids = ids_by_label(&stored);
    assert_eq!(ids.len(), 200);
    let distinct: BTreeSet<u64> = ids.values().map(|id| id.parse().unwrap()).collect();
    assert_eq!(distinct, (0..200).collect(), "ids are 0..200, each once");

    // One batch of new labels (one scope) is one round trip: the EVALSHA.
    let before = round_trips(&redis);
    let fresh: Vec<String> = (0..50).map(|i| format!("POST /new/{i}")).collect();
    write_all(&a, &label_points("f2", &fresh, "a", T0 + 1000), 50);
    let after = round_trips(&redis);
    assert_eq!(
        after - before,
        1,
        "{}",
        redis.cli(&["INFO", "commandstats"])
    );
    // And a batch of labels the gateway already knows costs none.
    write_all(&a, &label_points("f2", &fresh, "a", T0 + 2000), 50);
    assert_eq!(round_trips(&redis), after);
}

#[test]
fn a_redis_outage_is_a_503_and_heals_without_losing_acknowledged_points() {
    let influx = TestInflux::start();
    influx.create_db("ids");
    let mut redis = TestRedis::start();
    // Every batch asks Redis: no label is cached.
    let sluice = TestSluice::with_config(relay_config(&influx, &redis, ", cache_size = 0")).spawn();
    let labels: Vec<String> = (0..10).map(|i| format!("GET /x/{i}")).collect();
    let acked = write_through_outage(
        &sluice,
        "ids",
        |k| label_points("f1", &labels, "n", T0 + k * 100),
        50,
        |down| {
            if down {
                redis.stop();
            } else {
                redis.restart();
            }
        },
    );
    let stored = assert_all_stored(&influx, "ids", "tx", &acked, &sluice.log());
    ids_by_label(&stored);
}

#[test]
fn every_redis_kv_call_is_one_round_trip_and_namespaces_stay_apart() {
    let redis = TestRedis::start();
    let kv: Arc<dyn KvStore> = Arc::new(
        RedisKv::open(RedisKvOptions {
            url: redis.url(),
            key_prefix: "t:".into(),
            timeout: Duration::from_millis(500),
        })
        .unwrap(),
    );
    let a = NamespacedKv::new(Arc::clone(&kv), "a");
    let b = NamespacedKv::new(Arc::clone(&kv), "b");
    let keys = |ks: &[&str]| ks.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();

    // Load the script once, so what follows counts steady-state round trips.
    a.assign_ids("warm-up", &keys(&["x"])).unwrap();
    let start = round_trips(&redis);
    a.set_many(vec![
        ("k".into(), b"v\x00\xff".to_vec()),
        ("n".into(), b"7".to_vec()),
    ])
    .unwrap();
    assert_eq!(
        a.get_many(&keys(&["k", "missing", "n"])).unwrap(),
        [Some(b"v\x00\xff".to_vec()), None, Some(b"7".to_vec())]
    );
    assert_eq!(a.incr("n", 5).unwrap(), 12);
    assert_eq!(a.incr("fresh", -2).unwrap(), -2);
    assert_eq!(
        a.assign_ids("f", &keys(&["x", "y", "x"])).unwrap(),
        [0, 1, 0]
    );
    assert_eq!(a.assign_ids("f", &keys(&["z", "y"])).unwrap(), [2, 1]);
    assert_eq!(round_trips(&redis) - start, 6, "one round trip per call");

    // Another plugin's namespace sees none of it.
    assert_eq!(b.get_many(&keys(&["k"])).unwrap(), [None]);
    assert_eq!(b.assign_ids("f", &keys(&["z"])).unwrap(), [0]);
    // Empty calls cost nothing; a counter over text is an error, not a panic.
    let before = round_trips(&redis);
    assert!(a.get_many(&[]).unwrap().is_empty());
    assert!(a.assign_ids("f", &[]).unwrap().is_empty());
    assert_eq!(round_trips(&redis), before);
    let refused = a.incr("k", 1).unwrap_err();
    assert!(
        matches!(refused, CapabilityError::Refused { .. }),
        "{refused}"
    );
    // ... and the connection it came on is still good.
    let before = round_trips(&redis);
    assert_eq!(a.incr("n", 1).unwrap(), 13);
    assert_eq!(round_trips(&redis) - before, 1);
    assert!(redis.cli(&["HGETALL", "t:ids:a:f"]).contains('x'));
}
