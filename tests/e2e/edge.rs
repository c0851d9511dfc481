//! Edge mode and `[merge]` (issue 20): edges (one `sluice` process per simulated load
//! generator) aggregate raw latencies into windowed sketches, a relay merges them into
//! cross-node percentiles, a real `influxd` stores the result.

use serde_json::Value;
use sluice_e2e::{LONG, TestInflux, TestSluice, free_udp_port, metric_sum, wait_until};
use std::collections::BTreeMap;
use std::time::Duration;

/// Window length of the edges in these tests, ns.
const WINDOW: i64 = 1_000_000_000;
/// The relative accuracy of the sketches (the default).
const ACCURACY: f64 = 0.01;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// A relay with `[merge]` (plus `extra` keys) writing to `influx`.
fn relay(influx: &TestInflux, extra: &str) -> TestSluice {
    TestSluice::with_config(format!(
        r#"
[server]
http = "127.0.0.1:{{port}}"

[buffer]
dir = "{{dir}}/buffer"

[merge]
lateness = "2s"
{extra}

[[outputs]]
name = "central"
url = "{}"
api = "v1"
"#,
        influx.url()
    ))
    .spawn()
}

/// An edge with 1 s windows (plus `extra` `[edge]` keys) forwarding to `relay_url`.
fn edge(relay_url: &str, extra: &str) -> TestSluice {
    edge_with_lateness(relay_url, "3s", extra)
}

/// An edge with 1 s windows open for `lateness` after their end.
fn edge_with_lateness(relay_url: &str, lateness: &str, extra: &str) -> TestSluice {
    TestSluice::with_config(format!(
        r#"
[server]
http = "127.0.0.1:{{port}}"

[edge]
window = "1s"
allowed_lateness = "{lateness}"
quantiles = [0.5, 0.9, 0.99]
{extra}

[[outputs]]
name = "relay"
url = "{relay_url}"
api = "v1"
retry_max = "300ms"
"#
    ))
    .spawn()
}

/// Deterministic log-normal samples (xorshift64 and Box-Muller), rounded as they are
/// written (4 decimals).
struct LogNormal {
    state: u64,
    mu: f64,
    sigma: f64,
}

impl LogNormal {
    fn new(seed: u64, mu: f64, sigma: f64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            mu,
            sigma,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let v = (self.mu + self.sigma * z).exp();
        format!("{v:.4}").parse().unwrap()
    }
}

/// Nearest-rank percentile of `values` (sorted here).
fn exact(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((q * values.len() as f64).ceil() as usize).max(1) - 1]
}

/// Rows of `query` as maps from column to value.
fn rows(influx: &TestInflux, query: &str) -> Vec<BTreeMap<String, Value>> {
    let result = influx.query(query, "lt");
    let Some(series) = result
        .pointer("/results/0/series")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in series {
        let columns: Vec<String> = s["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let tags = s.get("tags").cloned().unwrap_or(Value::Null);
        for values in s["values"].as_array().into_iter().flatten() {
            let mut row: BTreeMap<String, Value> = columns
                .iter()
                .cloned()
                .zip(values.as_array().into_iter().flatten().cloned())
                .collect();
            if let Some(tags) = tags.as_object() {
                for (k, v) in tags {
                    row.insert(k.clone(), v.clone());
                }
            }
            out.push(row);
        }
    }
    out
}

fn num(row: &BTreeMap<String, Value>, key: &str) -> f64 {
    row.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no {key} in {row:?}"))
}

/// 20 nodes with different log-normal latency distributions, two windows each: for every
/// window the relay's p50/p90/p99 are within the sketches' relative accuracy of the
/// exact percentiles of the union, where averaging per-node percentiles is far off.
#[test]
fn twenty_nodes_merge_into_true_percentiles() {
    const NODES: usize = 20;
    const PER_WINDOW: i64 = 400;
    let influx = TestInflux::start();
    influx.create_db("lt");
    let relay = relay(&influx, "");
    let edges: Vec<TestSluice> = (0..NODES).map(|_| edge(&relay.url(), "")).collect();

    // The previous window and the current one: both open on the edges (lateness 3 s).
    let now = now_ns();
    let current = now - now.rem_euclid(WINDOW);
    let windows = [current - WINDOW, current];
    // values[window][node]
    let mut values: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); NODES]; windows.len()];
    for (i, edge) in edges.iter().enumerate() {
        let mut dist = LogNormal::new(i as u64 + 1, 2.5 + 0.12 * i as f64, 0.2 + 0.04 * i as f64);
        let mut body = String::new();
        for (w, start) in windows.iter().enumerate() {
            for k in 0..PER_WINDOW {
                let v = dist.next();
                values[w][i].push(v);
                let ts = start + k * (WINDOW / PER_WINDOW) + i as i64;
                body.push_str(&format!("lat,node=n{i},label=checkout ms={v:.4} {ts}\n"));
            }
        }
        let r = edge.write("lt", &body);
        assert_eq!(r.status, 204, "edge {i}: {}", r.describe());
    }
    let raw_points = NODES as i64 * PER_WINDOW * windows.len() as i64;

    let per_window = NODES as f64 * PER_WINDOW as f64;
    let stored = wait_until(LONG, || {
        let rows = rows(
            &influx,
            "SELECT ms_count, ms_p50, ms_p90, ms_p99 FROM lat WHERE label = 'checkout'",
        );
        (rows.len() == windows.len() && rows.iter().all(|r| num(r, "ms_count") == per_window))
            .then_some(rows)
    })
    .unwrap_or_else(|| {
        panic!(
            "no merged rows for both windows; relay log:\n{}",
            relay.log()
        )
    });

    let quantiles = [(0.5, "ms_p50"), (0.9, "ms_p90"), (0.99, "ms_p99")];
    let mut sketch_err = [0.0f64; 3];
    let mut avg_err = [0.0f64; 3];
    for (w, start) in windows.iter().enumerate() {
        let row = stored
            .iter()
            .find(|r| r["time"].as_i64() == Some(*start))
            .unwrap_or_else(|| panic!("no row at the window start {start}: {stored:?}"));
        let mut union: Vec<f64> = values[w].concat();
        for (j, (q, field)) in quantiles.iter().enumerate() {
            let want = exact(&mut union, *q);
            let got = num(row, field);
            let err = (got - want).abs() / want;
            let averaged = values[w]
                .iter()
                .map(|node| exact(&mut node.clone(), *q))
                .sum::<f64>()
                / NODES as f64;
            let a_err = (averaged - want).abs() / want;
            println!(
                "window {w} {field}: exact {want:.3}, merged sketch {got:.3} ({:.3}%), averaged per-node {averaged:.3} ({:.2}%)",
                err * 100.0,
                a_err * 100.0
            );
            assert!(
                err <= ACCURACY,
                "window {w} {field}: {got} vs exact {want} ({err:.4})"
            );
            sketch_err[j] = sketch_err[j].max(err);
            avg_err[j] = avg_err[j].max(a_err);
        }
    }

    let upstream: f64 = edges
        .iter()
        .map(|e| {
            metric_sum(
                &e.metrics(),
                "sluice_stage_points_written_total",
                &[("stage", "edge")],
            )
            .unwrap_or(0.0)
        })
        .sum();
    println!(
        "points sent upstream by the edges: {upstream} for {raw_points} raw ({:.0}x fewer)",
        raw_points as f64 / upstream.max(1.0)
    );
    assert_eq!(upstream, (NODES * windows.len()) as f64);
    let rss = edges[0].rss_bytes().unwrap_or(0);
    println!("edge RSS after the test: {:.1} MiB", rss as f64 / 1048576.0);
    assert!(rss < 25 * 1024 * 1024, "edge RSS {rss} bytes");

    // For the chart (bench/edge_error_chart.py → docs/edge-percentile-error.svg).
    let report = serde_json::json!({
        "nodes": NODES,
        "windows": windows.len(),
        "points_per_node_per_window": PER_WINDOW,
        "accuracy": ACCURACY,
        "quantiles": quantiles.iter().map(|(q, _)| q).collect::<Vec<_>>(),
        "merged_sketch_max_relative_error": sketch_err,
        "averaged_percentiles_max_relative_error": avg_err,
        "raw_points": raw_points,
        "upstream_points": upstream,
    });
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("edge-percentile-error.json");
    std::fs::write(&path, report.to_string()).unwrap();
    println!("wrote {}", path.display());
}

/// A point for a window already written, one far ahead of the clock, and the series
/// past `max_series` are dropped and counted; the rest arrives.
#[test]
fn late_future_and_too_many_series_are_dropped_and_counted() {
    let influx = TestInflux::start();
    influx.create_db("lt");
    let relay = relay(&influx, "");
    let edge = edge(&relay.url(), "max_series = 2");
    let now = now_ns();
    let hour = 3600 * 1_000_000_000i64;
    let body = format!(
        "lat,label=a ms=1 {now}\nlat,label=b ms=2 {now}\nlat,label=c ms=3 {now}\nlat,label=a ms=4 {}\nlat,label=a ms=5 {}\n",
        now - hour,
        now + hour
    );
    let r = edge.write("lt", &body);
    assert_eq!(r.status, 204, "{}", r.describe());
    let metrics = edge.metrics();
    for reason in ["late", "future", "max_series"] {
        assert_eq!(
            metric_sum(
                &metrics,
                "sluice_edge_points_dropped_total",
                &[("reason", reason)]
            ),
            Some(1.0),
            "{reason}:\n{metrics}"
        );
    }
    assert_eq!(
        metric_sum(&metrics, "sluice_edge_points_aggregated_total", &[]),
        Some(2.0)
    );
    let stored = wait_until(LONG, || {
        let rows = rows(&influx, "SELECT ms_count, ms_max FROM lat GROUP BY label");
        (rows.len() == 2).then_some(rows)
    })
    .unwrap_or_else(|| panic!("merged rows missing; relay log:\n{}", relay.log()));
    let labels: Vec<&str> = stored.iter().filter_map(|r| r["label"].as_str()).collect();
    assert_eq!(labels, ["a", "b"]);
    assert!(
        stored.iter().all(|r| num(r, "ms_count") == 1.0),
        "{stored:?}"
    );
    assert_eq!(
        num(&stored[0], "ms_max"),
        1.0,
        "the late point was not merged"
    );
    assert!(edge.log().contains("max_series"), "{}", edge.log());
}

/// The relay is down while the edge writes its windows: the edge's buffer holds them and
/// delivers once the relay is back, which still merges and writes them.
#[test]
fn an_edge_whose_relay_is_down_delivers_later() {
    let influx = TestInflux::start();
    influx.create_db("lt");
    let mut relay = relay(&influx, "");
    let url = relay.url();
    relay.terminate();
    let edge = edge(&url, "");
    let now = now_ns();
    let body: String = (1..=100)
        .map(|v| format!("lat,node=n1,label=checkout ms={v} {now}\n"))
        .collect();
    assert_eq!(edge.write("lt", &body).status, 204);
    // The window is written to the edge's buffer (1 s + lateness 3 s), not delivered.
    let written = wait_until(LONG, || {
        edge.metric("sluice_stage_points_written_total")
            .filter(|&n| n >= 1.0)
    });
    assert!(
        written.is_some(),
        "edge never wrote its window:\n{}",
        edge.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    relay.restart();
    let stored = wait_until(LONG, || {
        let rows = rows(&influx, "SELECT ms_count, ms_p99 FROM lat");
        (rows.len() == 1).then_some(rows)
    })
    .unwrap_or_else(|| panic!("window never stored; relay log:\n{}", relay.log()));
    assert_eq!(num(&stored[0], "ms_count"), 100.0);
    assert!((num(&stored[0], "ms_p99") - 99.0).abs() <= 99.0 * ACCURACY);
}

/// SIGTERM writes the open windows and gives the memory buffer time to deliver them.
#[test]
fn a_stopped_edge_sends_its_open_windows_first() {
    let influx = TestInflux::start();
    influx.create_db("lt");
    let relay = relay(&influx, "");
    // A window far longer than the test: only the shutdown can write it.
    let mut edge = TestSluice::with_config(format!(
        r#"
[server]
http = "127.0.0.1:{{port}}"

[edge]
window = "1h"

[[outputs]]
name = "relay"
url = "{}"
api = "v1"
"#,
        relay.url()
    ))
    .spawn();
    let now = now_ns();
    let body: String = (1..=10)
        .map(|v| format!("lat,label=checkout ms={v} {now}\n"))
        .collect();
    assert_eq!(edge.write("lt", &body).status, 204);
    assert!(edge.terminate().success(), "{}", edge.log());
    // The relay holds the window until it ends (other nodes may still send theirs).
    let merged = wait_until(LONG, || {
        relay
            .metric("sluice_merge_sketch_points_total")
            .filter(|&n| n >= 1.0)
    });
    assert!(
        merged.is_some(),
        "the open window never reached the relay; edge log:\n{}",
        edge.log()
    );
}

/// Load tools write UDP line protocol to the local agent: an edge aggregates it too.
#[test]
fn an_edge_aggregates_udp_line_protocol() {
    let influx = TestInflux::start();
    influx.create_db("lt");
    let relay = relay(&influx, "");
    let port = free_udp_port();
    let edge = edge(
        &relay.url(),
        &format!("\n[[udp]]\nbind = \"127.0.0.1:{port}\"\ndb = \"lt\"\n"),
    );
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // The listener may bind just after /ping answers: send until the edge counts one.
    let seen = wait_until(LONG, || {
        let line = format!("lat,label=udp ms=5 {}\n", now_ns());
        socket
            .send_to(line.as_bytes(), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        edge.metric("sluice_edge_points_aggregated_total")
            .filter(|&n| n >= 1.0)
    });
    assert!(seen.is_some(), "no UDP point aggregated:\n{}", edge.log());
    let stored = wait_until(LONG, || {
        let rows = rows(
            &influx,
            "SELECT ms_count, ms_p50 FROM lat WHERE label = 'udp'",
        );
        (!rows.is_empty()).then_some(rows)
    })
    .unwrap_or_else(|| panic!("no UDP window stored; relay log:\n{}", relay.log()));
    assert_eq!(num(&stored[0], "ms_p50"), 5.0);
}

/// An edge whose 1 s windows stay open for an hour: only its shutdown sends them.
fn holding_edge(relay_url: &str) -> TestSluice {
    edge_with_lateness(relay_url, "1h", "")
}

/// Waits until `lat` holds one merged point whose `ms_count` is `count`.
fn wait_for_count(influx: &TestInflux, relay: &TestSluice, count: f64, what: &str) {
    let stored = wait_until(LONG, || {
        let rows = rows(influx, "SELECT ms_count FROM lat");
        (rows.len() == 1 && num(&rows[0], "ms_count") == count).then_some(())
    });
    assert!(
        stored.is_some(),
        "{what}: want ms_count {count}, have {:?}; relay log:\n{}",
        rows(influx, "SELECT ms_count FROM lat"),
        relay.log()
    );
}

/// The relay's merge windows are journaled: sketches acknowledged before a `kill -9`
/// are merged and written after the restart, and after a graceful restart a late node's
/// sketch corrects the whole written window instead of overwriting it with its part.
#[test]
fn merge_windows_survive_kill_9_and_restarts() {
    let influx = TestInflux::start();
    influx.create_db("lt");
    let mut relay = relay(&influx, "");
    let mut edges: Vec<TestSluice> = (0..3).map(|_| holding_edge(&relay.url())).collect();
    let now = now_ns();
    for (edge, n) in edges.iter().zip([10, 20, 40]) {
        let body: String = (1..=n)
            .map(|v| format!("lat,label=checkout ms={v} {now}\n"))
            .collect();
        assert_eq!(edge.write("lt", &body).status, 204);
    }
    for edge in &mut edges[..2] {
        assert!(edge.terminate().success(), "{}", edge.log());
    }
    let merged = wait_until(LONG, || {
        relay
            .metric("sluice_merge_sketch_points_total")
            .filter(|&n| n >= 2.0)
    });
    assert!(merged.is_some(), "relay log:\n{}", relay.log());
    // Acknowledged, not written yet (lateness 2 s): the crash must not lose them.
    relay.kill9();
    relay.restart();
    wait_for_count(&influx, &relay, 30.0, "after kill -9");
    relay.terminate();
    relay.restart();
    // The third node's window arrives late, after the restart.
    assert!(edges[2].terminate().success(), "{}", edges[2].log());
    wait_for_count(&influx, &relay, 70.0, "after a late node");
}
