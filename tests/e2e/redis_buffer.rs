//! The Redis Streams buffer (`[buffer] kind = "redis"`) with a real `redis-server` and real
//! `influxd`: two gateways share one stream and a `kill -9` of one loses nothing; a Redis
//! restart mid-load gives 503s and never loses a 204; one output down does not hold the
//! other back; two shards keep each series in order; a full stream answers 503 and
//! trimming never removes what a group has not acknowledged; an entry handed out too often
//! is dead-lettered.

use sluice_e2e::outage::{assert_all_stored, write_through_outage};
use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestRedis, TestSluice, flood_points, to_lines,
    wait_until,
};
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;

/// A relay on the Redis buffer at `redis`, stream `stream`, writing to `influx`.
fn relay(redis: &TestRedis, stream: &str, extra: &str, influx_url: &str) -> SluiceConfig {
    SluiceConfig::new()
        .redis_buffer(
            &redis.url(),
            &format!("stream = \"{stream}\"\ngroup = \"relay\"\nclaim_idle = \"2s\"\n{extra}"),
        )
        .output_v1("central", influx_url)
}

/// Pending entries per consumer group of `stream` (`XINFO GROUPS`).
fn pending(redis: &TestRedis, stream: &str) -> Vec<u64> {
    let info = redis.cli(&["XINFO", "GROUPS", stream]);
    let lines: Vec<&str> = info.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "pending")
        .filter_map(|w| w[1].parse().ok())
        .collect()
}

/// `XLEN stream`.
fn length(redis: &TestRedis, stream: &str) -> u64 {
    redis
        .cli(&["XLEN", stream])
        .trim()
        .parse()
        .unwrap_or(u64::MAX)
}

#[test]
fn two_gateways_share_a_stream_and_a_kill_9_loses_no_acknowledged_point() {
    let influx = TestInflux::start();
    influx.create_db("r");
    let redis = TestRedis::start();
    let config = relay(&redis, "shared", "", &influx.url()).toml();
    let mut a = TestSluice::with_config(config.clone()).spawn();
    let b = TestSluice::with_config(config).spawn();
    let mut acked: Vec<Point> = Vec::new();
    for i in 0..40i64 {
        if i == 20 {
            a.kill9();
        }
        let target = if i % 2 == 0 && i < 20 { &a } else { &b };
        let points = flood_points(500, T0 + i * 1_000_000, "shared");
        let response = target.write("r", &to_lines(&points));
        assert_eq!(response.status, 204, "{}", response.describe());
        acked.extend(points);
    }
    let stored = assert_all_stored(&influx, "r", "shared", &acked, &b.log());
    assert_eq!(stored.len(), acked.len());
    // What `a` held when it died was taken over by `b`, delivered and acknowledged.
    let drained = wait_until(LONG, || {
        pending(&redis, "shared")
            .iter()
            .all(|p| *p == 0)
            .then_some(())
    });
    assert!(
        drained.is_some(),
        "entries left pending: {:?}\n{}",
        pending(&redis, "shared"),
        b.log()
    );
    // Trimming has removed what every group acknowledged.
    let trimmed = wait_until(LONG, || (length(&redis, "shared") <= 1).then_some(()));
    assert!(trimmed.is_some(), "XLEN {}", length(&redis, "shared"));
    let health = b.health();
    assert_eq!(health["buffer"]["redis"]["reachable"], true, "{health}");
    assert_eq!(
        health["buffer"]["redis"]["eviction_policy"], "noeviction",
        "{health}"
    );
    assert!(
        b.metrics().contains("sluice_buffer_group_pending{"),
        "no per-group gauge in /metrics"
    );
}

#[test]
fn a_redis_restart_mid_load_answers_503_and_loses_no_204() {
    let influx = TestInflux::start();
    influx.create_db("r");
    let mut redis = TestRedis::start();
    let sluice = TestSluice::with_config(
        relay(&redis, "restart", "timeout = \"500ms\"\n", &influx.url()).toml(),
    )
    .spawn();
    let acked = write_through_outage(
        &sluice,
        "r",
        |k| flood_points(50, T0 + k * 1_000_000, "restart"),
        500,
        |down| {
            if down {
                redis.stop();
            } else {
                redis.restart();
            }
        },
    );
    assert_all_stored(&influx, "r", "restart", &acked, &sluice.log());
}

#[test]
fn one_output_down_does_not_hold_the_other_back_and_catches_up() {
    let (up, mut down) = (TestInflux::start(), TestInflux::start());
    up.create_db("r");
    down.create_db("r");
    let redis = TestRedis::start();
    let config = SluiceConfig::new()
        .redis_buffer(&redis.url(), "stream = \"fanout\"\n")
        .output_v1("up", &up.url())
        .output_v1("down", &down.url());
    let sluice = TestSluice::with_config(config.toml()).spawn();
    down.stop();
    let points = flood_points(2000, T0, "fanout");
    for chunk in points.chunks(200) {
        let response = sluice.write("r", &to_lines(chunk));
        assert_eq!(response.status, 204, "{}", response.describe());
    }
    up.expect_points("r", "fanout", &points);
    down.restart();
    down.expect_points("r", "fanout", &points);
}

#[test]
fn two_shards_keep_each_series_in_order_and_lose_nothing() {
    let influx = TestInflux::start();
    influx.create_db("r");
    influx.create_db("s");
    let redis = TestRedis::start();
    let sluice =
        TestSluice::with_config(relay(&redis, "sharded", "shards = 2\n", &influx.url()).toml())
            .spawn();
    // The same points written again and again with a rising value: if a later write
    // overtook an earlier one, the store would keep an older value.
    let mut last = Vec::new();
    for round in 0..30i64 {
        for db in ["r", "s"] {
            let points: Vec<Point> = flood_points(100, T0, "ordered")
                .into_iter()
                .map(|p| p.field("round", round))
                .collect();
            let response = sluice.write(db, &to_lines(&points));
            assert_eq!(response.status, 204, "{}", response.describe());
            if db == "r" {
                last = points;
            }
        }
    }
    influx.expect_points("r", "ordered", &last);
    influx.expect_points("s", "ordered", &last);
    let streams = redis.cli(&["KEYS", "sharded:*"]);
    assert!(
        streams.contains("sharded:0") && streams.contains("sharded:1"),
        "{streams}"
    );
}

#[test]
fn a_full_stream_answers_503_and_trimming_keeps_what_a_group_still_needs() {
    let redis = TestRedis::start();
    let sluice = TestSluice::with_config(
        relay(&redis, "full", "max_len = 5\n", &sluice_e2e::dead_url()).toml(),
    )
    .spawn();
    let mut statuses = Vec::new();
    for i in 0..8i64 {
        let response = sluice.write("r", &to_lines(&flood_points(10, T0 + i, "full")));
        if response.status == 503 {
            assert!(
                response.header("retry-after").is_some(),
                "{}",
                response.describe()
            );
            assert!(response.body.contains("max_len"), "{}", response.describe());
        }
        statuses.push(response.status);
    }
    assert_eq!(statuses, [204, 204, 204, 204, 204, 503, 503, 503]);
    // The output is down: nothing is acknowledged, so the keeper trims nothing.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(length(&redis, "full"), 5);
}

#[test]
fn an_entry_handed_out_too_often_is_dead_lettered() {
    let influx = TestInflux::start();
    influx.create_db("r");
    let redis = TestRedis::start();
    // `a` cannot deliver (its store is down) and holds the entries when it is killed;
    // `b` takes them over, which is their second delivery: past `max_deliveries = 1`.
    let mut a = TestSluice::with_config(
        relay(
            &redis,
            "poison",
            "max_deliveries = 1\n",
            &sluice_e2e::dead_url(),
        )
        .toml(),
    )
    .spawn();
    let points = flood_points(100, T0, "poison");
    let response = a.write("r", &to_lines(&points));
    assert_eq!(response.status, 204, "{}", response.describe());
    let held = wait_until(LONG, || {
        pending(&redis, "poison")
            .iter()
            .any(|p| *p > 0)
            .then_some(())
    });
    assert!(held.is_some(), "a never read the entry\n{}", a.log());
    a.kill9();
    let b = TestSluice::with_config(
        relay(&redis, "poison", "max_deliveries = 1\n", &influx.url()).toml(),
    )
    .spawn();
    let dead = wait_until(LONG, || {
        b.metric("sluice_dead_lettered_batches_total")
            .filter(|n| *n >= 1.0)
    });
    assert!(dead.is_some(), "not dead-lettered\n{}", b.log());
    let drained = wait_until(LONG, || {
        pending(&redis, "poison")
            .iter()
            .all(|p| *p == 0)
            .then_some(())
    });
    assert!(drained.is_some(), "{:?}", pending(&redis, "poison"));
    assert_eq!(influx.count("r", "poison", "count"), 0);
}

#[test]
fn wait_replicas_that_never_come_answer_503_not_204() {
    let redis = TestRedis::start();
    // No replica exists: WAIT 1 returns 0 after its timeout, so no write may get a 204.
    let sluice = TestSluice::with_config(
        relay(
            &redis,
            "replicated",
            "wait_replicas = 1\ntimeout = \"300ms\"\n",
            &sluice_e2e::dead_url(),
        )
        .toml(),
    )
    .spawn();
    let response = sluice.write("r", &to_lines(&flood_points(10, T0, "replicated")));
    assert_eq!(response.status, 503, "{}", response.describe());
    assert!(
        response.body.contains("0 of 1 replicas"),
        "{}",
        response.describe()
    );
    assert!(response.header("retry-after").is_some());
}
