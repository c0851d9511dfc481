//! The load-testing relay recipe at the seed's scale, with real influxd: 900 nodes writing
//! up to 20,000 free-text labels — the series count equals what label-id's mapping predicts
//! (one series per label) and without the chain it is one per node and label; 900 nodes
//! writing the same instant — all 900 points kept with ts-dedup, one without.

use sluice_e2e::{Http, LONG, SluiceConfig, TestInflux, TestSluice, plugin_wasm, wait_until};
use std::collections::HashSet;

const T0: i64 = 1_700_000_000_000_000_000;
const NODES: usize = 900;
const LABELS: usize = 20_000;
const PER_NODE: usize = 100;

/// `SHOW SERIES EXACT CARDINALITY`, summed over measurements.
fn series(influx: &TestInflux, db: &str) -> u64 {
    let r = influx.query("SHOW SERIES EXACT CARDINALITY", db);
    r["results"][0]["series"]
        .as_array()
        .map(|all| all.iter().filter_map(|s| s["values"][0][0].as_u64()).sum())
        .unwrap_or(0)
}

fn relay(influx: &TestInflux, plugins: &[(&str, &str, &str)]) -> TestSluice {
    let mut config = SluiceConfig::new().output_v1("central", &influx.url());
    for (name, plugin, extra) in plugins {
        config = config.plugin(name, &plugin_wasm(plugin), extra);
    }
    TestSluice::with_config(config.toml()).spawn()
}

/// The label of a node's `j`th point. As in a real test, nodes run the same script
/// skewed in time: each node's window of 100 labels starts 22 labels after the previous
/// node's, so neighbours share most labels and all nodes together cover the 20,000.
fn label(node: usize, j: usize) -> usize {
    (node * LABELS / NODES + j) % LABELS
}

/// One node's tick: `PER_NODE` points, each with a label of the 20,000.
fn node_body(node: usize) -> String {
    (0..PER_NODE)
        .map(|j| {
            let label = label(node, j);
            let t = T0 + (node * PER_NODE + j) as i64;
            format!("rt,flood=f1,node=n{node},label=GET\\ /item/{label} v={j} {t}\n")
        })
        .collect()
}

#[test]
fn label_id_bounds_series_by_labels_not_by_node_and_label() {
    let influx = TestInflux::start();
    influx.create_db("with");
    influx.create_db("without");
    let chain = relay(
        &influx,
        &[
            (
                "strip-node",
                "tag-strip",
                "config = { tags = [\"node\"] }\n",
            ),
            (
                "label-id",
                "label-id",
                "config = { tag = \"label\", scope_tags = [\"flood\"], id_tag = \"label_id\" }\n",
            ),
        ],
    );
    let bare = relay(&influx, &[]);

    let http = Http::keep_alive();
    let mut labels = HashSet::new();
    let mut pairs = HashSet::new();
    for node in 0..NODES {
        let body = node_body(node);
        for j in 0..PER_NODE {
            let label = label(node, j);
            labels.insert(label);
            pairs.insert((node, label));
        }
        for (sluice, db) in [(&chain, "with"), (&bare, "without")] {
            let response = http
                .request("POST", &format!("{}/write", sluice.url()))
                .db(db)
                .body(body.clone())
                .send();
            assert_eq!(response.status, 204, "{}", response.describe());
        }
    }
    let points = (NODES * PER_NODE) as u64;
    for db in ["with", "without"] {
        let stored = wait_until(LONG, || {
            (influx.count(db, "rt", "v") == points).then_some(())
        });
        assert!(
            stored.is_some(),
            "{db}: {} of {points}",
            influx.count(db, "rt", "v")
        );
    }
    let (with, without) = (series(&influx, "with"), series(&influx, "without"));
    eprintln!(
        "{NODES} nodes x {PER_NODE} points, {} distinct labels: {with} series with label-id, {without} without",
        labels.len()
    );
    assert_eq!(with, labels.len() as u64, "one series per label id");
    assert_eq!(without, pairs.len() as u64, "one series per node and label");
    // The ids are the small sequential integers the mapping predicts: 0..labels.
    let r = influx.query("SHOW TAG VALUES FROM rt WITH KEY = \"label_id\"", "with");
    let mut ids: Vec<u64> = r["results"][0]["series"][0]["values"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row[1].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    assert_eq!(ids, (0..labels.len() as u64).collect::<Vec<_>>());
}

#[test]
fn ts_dedup_keeps_every_node_of_the_same_instant() {
    let influx = TestInflux::start();
    influx.create_db("dedup");
    influx.create_db("plain");
    let strip = (
        "strip-node",
        "tag-strip",
        "config = { tags = [\"node\"] }\n",
    );
    let dedup = relay(
        &influx,
        &[
            (
                "dedup",
                "ts-dedup",
                "config = { key = \"e2e-secret\", tags = [\"node\", \"label\"], bits = 24 }\n",
            ),
            strip,
        ],
    );
    let plain = relay(&influx, &[strip]);
    let same: String = (0..NODES)
        .map(|n| format!("rt,node=n{n},label=home v={n} {T0}\n"))
        .collect();
    assert_eq!(dedup.write("dedup", &same).status, 204);
    assert_eq!(plain.write("plain", &same).status, 204);
    let kept = wait_until(LONG, || {
        (influx.count("dedup", "rt", "v") == NODES as u64).then_some(())
    });
    assert!(
        kept.is_some(),
        "kept {} of {NODES} with ts-dedup",
        influx.count("dedup", "rt", "v")
    );
    let without = wait_until(LONG, || {
        let n = influx.count("plain", "rt", "v");
        (n > 0).then_some(n)
    });
    eprintln!("{NODES} nodes, one instant: {NODES} kept with ts-dedup, {without:?} without");
    assert_eq!(
        without,
        Some(1),
        "without ts-dedup the points overwrite each other"
    );
}
