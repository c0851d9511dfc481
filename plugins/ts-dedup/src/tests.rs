//! Native unit tests of [`TsDedup`] with the SDK's in-memory host.

use std::collections::HashSet;

use super::*;
use sluice_plugin_sdk::{Batch, FakeHost, RunError, load, run_native};

const CONFIG: &str = r#"{"key": "check-secret", "tags": ["node", "label"]}"#;

/// Runs one batch through `plugin`.
fn run(plugin: &mut TsDedup, input: &str) -> Result<String, RunError> {
    let mut host = FakeHost::new();
    let out = run_native(plugin, &Context::default(), input.as_bytes(), &mut host)?;
    assert_eq!(host.calls(), 0);
    Ok(String::from_utf8(out).unwrap())
}

/// Runs one batch through a new plugin.
fn once(config: &str, input: &str) -> String {
    run(&mut load(config).unwrap(), input).unwrap()
}

/// The timestamps of a batch, in order.
fn timestamps(batch: &str) -> Vec<i64> {
    batch
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn same_instant_points_from_many_nodes_all_get_their_own_timestamp() {
    let t = 1_700_000_000_000_000_000i64;
    let input: String = (0..100)
        .map(|i| format!("rt,node=n{i},label=home v={i} {t}\n"))
        .collect();
    let out = once(CONFIG, &input);
    let stamps = timestamps(&out);
    assert_eq!(stamps.len(), 100);
    assert_eq!(stamps.iter().collect::<HashSet<_>>().len(), 100);
    let window = 1i64 << DEFAULT_BITS;
    for s in &stamps {
        assert_eq!(s & !(window - 1), t & !(window - 1));
    }
    // Everything but the timestamps is unchanged.
    for (a, b) in input.lines().zip(out.lines()) {
        assert_eq!(a.rsplit_once(' ').unwrap().0, b.rsplit_once(' ').unwrap().0);
    }
}

#[test]
fn the_rewrite_is_deterministic_and_keyed() {
    let input = "rt,node=n1,label=home v=1 1700000000000000000\n\
                 rt,label=home,node=n1 v=2 1700000000000000000\n\
                 cpu,node=n1,label=home,x=y v=3 1700000000000000000\n";
    let a = once(CONFIG, input);
    // Another instance, or the same one again, gives the same timestamps.
    let mut plugin: TsDedup = load(CONFIG).unwrap();
    assert_eq!(run(&mut plugin, input).unwrap(), a);
    assert_eq!(run(&mut plugin, input).unwrap(), a);
    // Only the chosen tags' values count: tag order, other tags and the measurement not.
    let stamps = timestamps(&a);
    assert!(stamps.iter().all(|&s| s == stamps[0]), "{a}");
    // Pinned (and checked with Python's hmac module, see the README), so that a change
    // of the message or of the bits taken is noticed: other gateways and replays must
    // agree with this one.
    assert_eq!(stamps[0], 1_700_000_000_000_269_268);
    let other = once(r#"{"key": "other", "tags": ["node", "label"]}"#, input);
    assert_ne!(timestamps(&other)[0], stamps[0]);
}

#[test]
fn bits_bound_how_far_a_point_moves() {
    let input: String = (0..50)
        .map(|i| format!("m,node=n{i} v=1 1700000000123456789\n"))
        .collect();
    for bits in [1, 8, 19, 32] {
        let out = once(
            &format!(r#"{{"key": "k", "tags": ["node"], "bits": {bits}}}"#),
            &input,
        );
        let window = 1i64 << bits;
        for s in timestamps(&out) {
            assert_eq!(s & !(window - 1), 1_700_000_000_123_456_789 & !(window - 1));
        }
    }
}

#[test]
fn negative_and_extreme_timestamps_stay_in_range() {
    let config = r#"{"key": "k", "tags": ["node"], "bits": 32}"#;
    let window = 1i64 << 32;
    let out = once(config, "m,node=a v=1 -1700000000123456789\n");
    let s = timestamps(&out)[0];
    assert!(s < 0);
    assert_eq!(
        s & !(window - 1),
        -1_700_000_000_123_456_789 & !(window - 1)
    );
    // At the ends of InfluxDB's range the window is clamped: the output stays valid
    // (run_native checks it, as the gateway does).
    for node in 0..20 {
        for t in [MIN_TIMESTAMP, MAX_TIMESTAMP] {
            let out = once(config, &format!("m,node=n{node} v=1 {t}\n"));
            let s = timestamps(&out)[0];
            assert!((MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&s), "{s}");
        }
    }
}

#[test]
fn values_count_as_their_text() {
    // However the SDK reads these values (escapes follow InfluxDB 1.x), points whose
    // values are the same text get the same bits, and other texts other bits.
    let config = r#"{"key": "k", "tags": ["no de"], "bits": 32}"#;
    let input = "m,no\\ de=a\\b v=1 0\nm,no\\ de=a\\\\b v=1 0\nm,no\\ de=a\\ b v=1 0\nm,no\\ de=a\\,b v=1 0\nm,no\\ de=a\\b v=1 0\n";
    let texts: Vec<String> = Batch::new(input.as_bytes())
        .points()
        .map(|p| {
            p.unwrap()
                .tag("no de")
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let stamps = timestamps(&once(config, input));
    for i in 0..texts.len() {
        for j in 0..texts.len() {
            assert_eq!(
                texts[i] == texts[j],
                stamps[i] == stamps[j],
                "{:?} {:?}",
                texts[i],
                texts[j]
            );
        }
    }
    // Values are delimited: ("ab", absent), ("a", "b") and (absent, "ab") differ.
    let config = r#"{"key": "k", "tags": ["x", "y"], "bits": 32}"#;
    let s = timestamps(&once(
        config,
        "m,x=ab v=1 0\nm,x=a,y=b v=1 0\nm,y=ab v=1 0\n",
    ));
    assert_eq!(s.iter().collect::<HashSet<_>>().len(), 3);
}

#[test]
fn points_without_any_chosen_tag_and_other_text_pass_unchanged() {
    let input = "cpu,host=a v=1 1700000000000000000\n\
                 log,node=n1 msg=\"multi\nline, node=n2 5\" 1700000000000000000\n";
    let out = once(CONFIG, input);
    let mut lines = out.split_inclusive('\n');
    assert_eq!(lines.next(), Some("cpu,host=a v=1 1700000000000000000\n"));
    let second: String = lines.collect();
    let (head, stamp) = second.trim_end().rsplit_once(' ').unwrap();
    assert_eq!(head, "log,node=n1 msg=\"multi\nline, node=n2 5\"");
    let window = 1i64 << DEFAULT_BITS;
    assert_eq!(
        stamp.parse::<i64>().unwrap() & !(window - 1),
        1_700_000_000_000_000_000 & !(window - 1)
    );
    assert_eq!(once(CONFIG, ""), "");
}

#[test]
fn a_warm_cache_gives_the_same_answers() {
    let input: String = (0..300)
        .map(|i| {
            format!(
                "m,node=n{},label=l{} v=1 {}\n",
                i % 10,
                i % 7,
                i * 1_000_000
            )
        })
        .collect();
    let cold = once(
        r#"{"key": "k", "tags": ["node", "label"], "cache_size": 0}"#,
        &input,
    );
    let mut small: TsDedup =
        load(r#"{"key": "k", "tags": ["node", "label"], "cache_size": 5}"#).unwrap();
    assert_eq!(run(&mut small, &input).unwrap(), cold);
    let mut warm: TsDedup = load(r#"{"key": "k", "tags": ["node", "label"]}"#).unwrap();
    assert_eq!(run(&mut warm, &input).unwrap(), cold);
    assert_eq!(warm.stamper.cached(), 70);
    assert_eq!(run(&mut warm, &input).unwrap(), cold);
}

#[test]
fn bad_configs_are_refused_with_the_key_named() {
    let err = |c: &str| load::<TsDedup>(c).unwrap_err();
    assert!(err(r#"{"tags": ["node"]}"#).contains("missing field `key`"));
    assert!(err(r#"{"key": "k"}"#).contains("missing field `tags`"));
    assert!(err(r#"{"key": "", "tags": ["node"]}"#).starts_with("`key` is empty"));
    assert!(
        err(r#"{"key": "${DEDUP_KEY}", "tags": ["node"]}"#)
            .starts_with("`key` is \"${DEDUP_KEY}\", an environment reference")
    );
    assert!(err(r#"{"key": "k", "tags": []}"#).starts_with("`tags` is empty"));
    assert!(err(r#"{"key": "k", "tags": [""]}"#).starts_with("`tags` lists an empty key"));
    assert!(err(r#"{"key": "k", "tags": ["a", "a"]}"#).contains("twice"));
    assert!(err(r#"{"key": "k", "tags": ["a"], "bits": 0}"#).starts_with("`bits` = 0"));
    assert!(err(r#"{"key": "k", "tags": ["a"], "bits": 33}"#).starts_with("`bits` = 33"));
    assert!(err(r#"{"key": "k", "tags": ["a"], "bits": -1}"#).contains("invalid value"));
    assert!(err(r#"{"key": "k", "tags": ["a"], "tag": []}"#).contains("unknown field `tag`"));
    // A dollar sign alone is a fine key.
    assert!(load::<TsDedup>(r#"{"key": "pa$$word{x}", "tags": ["a"]}"#).is_ok());
}
