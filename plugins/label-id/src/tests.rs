//! Native unit tests of [`LabelId`] with the SDK's in-memory host.

use super::*;
use sluice_plugin_sdk::{FakeHost, RunError, load, run_native};

/// Loads the plugin from JSON config text.
fn plugin(config: &str) -> LabelId {
    load(config).unwrap()
}

/// Runs one batch through `plugin` against `host`.
fn run(plugin: &mut LabelId, host: &mut FakeHost, input: &str) -> Result<String, RunError> {
    let out = run_native(plugin, &Context::default(), input.as_bytes(), host)?;
    Ok(String::from_utf8(out).unwrap())
}

/// Runs one batch through a new plugin and host.
fn once(config: &str, input: &str) -> String {
    run(&mut plugin(config), &mut FakeHost::new(), input).unwrap()
}

const FLOOD: &str = r#"{"tag": "label", "scope_tags": ["flood"]}"#;

#[test]
fn replaces_the_label_by_a_sequential_id_per_scope() {
    let input = "tx,flood=f1,label=login,node=n1 v=1 1\n\
                 tx,flood=f1,label=search,node=n1 v=2 2\n\
                 tx,flood=f1,label=login,node=n2 v=3 3\n\
                 tx,flood=f2,label=logout,node=n1 v=4 4\n\
                 tx,flood=f2,label=login,node=n1 v=5 5\n";
    let mut host = FakeHost::new();
    let out = run(&mut plugin(FLOOD), &mut host, input).unwrap();
    assert_eq!(
        out,
        "tx,flood=f1,label_id=0,node=n1 v=1 1\n\
         tx,flood=f1,label_id=1,node=n1 v=2 2\n\
         tx,flood=f1,label_id=0,node=n2 v=3 3\n\
         tx,flood=f2,label_id=0,node=n1 v=4 4\n\
         tx,flood=f2,label_id=1,node=n1 v=5 5\n"
    );
    // One namespace per scope, the labels as keys; one call per scope.
    assert_eq!(host.ids("label/2:f1").unwrap()["search"], 1);
    assert_eq!(host.ids("label/2:f2").unwrap()["logout"], 0);
    assert_eq!(host.calls(), 2);
    assert_eq!(
        host.logs(),
        [(
            Level::Debug,
            "assigned ids to 4 new labels in 2 scopes".to_owned()
        )]
    );
}

#[test]
fn without_scope_tags_one_namespace_counts_every_label() {
    let mut host = FakeHost::new();
    let out = run(
        &mut plugin(r#"{"tag": "label", "namespace": "labels"}"#),
        &mut host,
        "a,label=x v=1 1\nb,label=y,flood=f9 v=1 2\n",
    )
    .unwrap();
    assert_eq!(out, "a,label_id=0 v=1 1\nb,flood=f9,label_id=1 v=1 2\n");
    assert_eq!(host.ids("labels").unwrap().len(), 2);
}

#[test]
fn a_point_without_a_scope_tag_has_its_own_scope() {
    let mut host = FakeHost::new();
    let out = run(
        &mut plugin(r#"{"tag": "label", "scope_tags": ["flood", "region"]}"#),
        &mut host,
        "m,label=a,region=eu v=1 1\nm,flood=f,label=b v=1 2\n",
    )
    .unwrap();
    assert_eq!(
        out,
        "m,label_id=0,region=eu v=1 1\nm,flood=f,label_id=0 v=1 2\n"
    );
    assert!(host.ids("label/-/2:eu").is_some());
    assert!(host.ids("label/1:f/-").is_some());
}

#[test]
fn the_id_tag_goes_where_it_sorts_and_replaces_an_old_one() {
    let config = r#"{"tag": "label"}"#;
    assert_eq!(
        once(config, "m,a=1,label=x,lb=2,z=3 v=1 1\n"),
        "m,a=1,label_id=0,lb=2,z=3 v=1 1\n"
    );
    assert_eq!(
        once(config, "m,label=x,label_a=1 v=1 1\n"),
        "m,label_a=1,label_id=0 v=1 1\n"
    );
    assert_eq!(
        once(config, "m,label=x,label_id=77,node=n v=1 1\n"),
        "m,label_id=0,node=n v=1 1\n"
    );
    // In place, when the id tag is the tag.
    assert_eq!(
        once(
            r#"{"tag": "label", "id_tag": "label"}"#,
            "m,a=1,label=x,z=2 v=1 1\n"
        ),
        "m,a=1,label=0,z=2 v=1 1\n"
    );
}

#[test]
fn keeps_the_text_as_a_string_field_unescaped_then_escaped() {
    let config = r#"{"tag": "label", "id_tag": "lid", "keep_as_field": true}"#;
    // `\ `, `\,` and `\=` are escapes in a tag value; `\d` is a backslash and a `d`;
    // a quote needs no escape there but does in a string field.
    let input = "tx,label=GET\\ /a\\,b\\=c\\d\"q\",n=1 v=1i,s=\"x y\" 5\n";
    assert_eq!(
        once(config, input),
        "tx,lid=0,n=1 v=1i,s=\"x y\",label=\"GET /a,b=c\\\\d\\\"q\\\"\" 5\n"
    );
}

#[test]
fn labels_are_compared_as_text_and_escaped_names_match() {
    // However the SDK reads these values (escapes follow InfluxDB 1.x), points with the
    // same text share an id and the kv key is that text.
    let input = "m,la\\ bel=a\\b v=1 1\nm,la\\ bel=a\\\\b v=1 2\nm,la\\ bel=a\\ b v=1 3\nm,la\\ bel=a\\b v=1 4\n";
    let batch = Batch::new(input.as_bytes());
    let texts: Vec<String> = batch
        .points()
        .map(|p| {
            p.unwrap()
                .tag("la bel")
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut distinct: Vec<&String> = Vec::new();
    let expected: String = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let id = distinct.iter().position(|t| *t == text).unwrap_or_else(|| {
                distinct.push(text);
                distinct.len() - 1
            });
            format!("m,id\\,x={id} v=1 {}\n", i + 1)
        })
        .collect();
    let mut host = FakeHost::new();
    let out = run(
        &mut plugin(r#"{"tag": "la bel", "id_tag": "id,x"}"#),
        &mut host,
        input,
    )
    .unwrap();
    assert_eq!(out, expected);
    for (id, text) in distinct.iter().enumerate() {
        assert_eq!(host.ids("la bel").unwrap()[*text], id as u64);
    }
}

#[test]
fn points_without_the_tag_pass_unchanged() {
    let input = "cpu,host=a v=1 1\n\
                 tx,label_id=3 v=\"multi\nline, label=x\" 2\n\
                 tx,labels=x w=1 3\n";
    let mut host = FakeHost::new();
    assert_eq!(run(&mut plugin(FLOOD), &mut host, input).unwrap(), input);
    assert_eq!(host.calls(), 0);
}

#[test]
fn an_empty_batch_makes_no_call() {
    let mut host = FakeHost::new();
    assert_eq!(run(&mut plugin(FLOOD), &mut host, "").unwrap(), "");
    assert_eq!(host.calls(), 0);
}

#[test]
fn a_known_batch_makes_no_kv_call() {
    let input: String = (0..200)
        .map(|i| format!("tx,flood=f1,label=l{},node=n{} v={i} {i}\n", i % 7, i % 3))
        .collect();
    let mut host = FakeHost::new();
    let mut label_id = plugin(FLOOD);
    let first = run(&mut label_id, &mut host, &input).unwrap();
    assert_eq!(host.calls(), 1);
    assert_eq!(label_id.cache.len(), 7);
    let second = run(&mut label_id, &mut host, &input).unwrap();
    assert_eq!(
        host.calls(),
        1,
        "the second batch was served from the cache"
    );
    assert_eq!(first, second);
    assert!(first.contains("tx,flood=f1,label_id=6,node=n0 v=6 6\n"));
}

#[test]
fn a_batch_with_a_new_label_after_known_ones_is_rewritten_whole() {
    let mut host = FakeHost::new();
    let mut label_id = plugin(FLOOD);
    run(&mut label_id, &mut host, "m,flood=f,label=a v=1 1\n").unwrap();
    let out = run(
        &mut label_id,
        &mut host,
        "m,flood=f,label=a v=1 1\nm,flood=f,label=b v=1 2\nx v=1 3\nm,flood=f,label=a v=1 4\nm,flood=g,label=a v=1 5\n",
    )
    .unwrap();
    assert_eq!(
        out,
        "m,flood=f,label_id=0 v=1 1\nm,flood=f,label_id=1 v=1 2\nx v=1 3\nm,flood=f,label_id=0 v=1 4\nm,flood=g,label_id=0 v=1 5\n"
    );
    // One call for the first batch, two for the second's two scopes with new labels.
    assert_eq!(host.calls(), 3);
}

#[test]
fn a_small_cache_still_maps_every_label_and_starts_over_when_full() {
    let input: String = (0..10).map(|i| format!("m,label=l{i} v=1 {i}\n")).collect();
    let expected: String = (0..10)
        .map(|i| format!("m,label_id={i} v=1 {i}\n"))
        .collect();
    let mut host = FakeHost::new();
    let mut small = plugin(r#"{"tag": "label", "cache_size": 4}"#);
    assert_eq!(run(&mut small, &mut host, &input).unwrap(), expected);
    assert!(small.cache.len() <= 4);
    assert_eq!(run(&mut small, &mut host, &input).unwrap(), expected);
    assert_eq!(host.calls(), 2);

    let mut none = plugin(r#"{"tag": "label", "cache_size": 0}"#);
    assert_eq!(run(&mut none, &mut host, &input).unwrap(), expected);
    assert_eq!(run(&mut none, &mut host, &input).unwrap(), expected);
    assert_eq!(host.calls(), 4);
}

#[test]
fn two_instances_on_one_store_agree() {
    // Two gateways sharing a kv: the second sees the labels in another order.
    let labels: Vec<String> = (0..50).map(|i| format!("GET\\ /checkout/{i}")).collect();
    let forward: String = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("tx,flood=f1,label={l} v={i} {i}\n"))
        .collect();
    let backward: String = labels
        .iter()
        .enumerate()
        .rev()
        .map(|(i, l)| format!("tx,flood=f1,label={l} v={i} {i}\n"))
        .collect();
    let config = r#"{"tag": "label", "scope_tags": ["flood"], "keep_as_field": true}"#;
    let mut host = FakeHost::new();
    let a = run(&mut plugin(config), &mut host, &forward).unwrap();
    let b = run(&mut plugin(config), &mut host, &backward).unwrap();
    let mut a: Vec<&str> = a.lines().collect();
    let mut b: Vec<&str> = b.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert!(a.contains(&"tx,flood=f1,label_id=49 v=49,label=\"GET /checkout/49\" 49"));
}

#[test]
fn an_unavailable_kv_is_a_transient_error() {
    let mut host = FakeHost::new();
    let mut label_id = plugin(FLOOD);
    run(&mut label_id, &mut host, "m,flood=f,label=a v=1 1\n").unwrap();
    host.fail_with(Some("redis: connection refused"));
    let err = run(&mut label_id, &mut host, "m,flood=f,label=b v=1 1\n").unwrap_err();
    assert_eq!(
        err,
        RunError::Plugin(PluginError::Unavailable(
            "kv assign-ids in \"label/1:f\": redis: connection refused".into()
        ))
    );
    // Known labels need no kv; once kv is back the batch goes through.
    assert!(run(&mut label_id, &mut host, "m,flood=f,label=a v=1 1\n").is_ok());
    host.fail_with(None);
    assert_eq!(
        run(&mut label_id, &mut host, "m,flood=f,label=b v=1 1\n").unwrap(),
        "m,flood=f,label_id=1 v=1 1\n"
    );
}

#[test]
fn a_label_over_the_key_limit_is_left_in_place_and_logged_once() {
    let long = "x".repeat(MAX_LABEL_BYTES + 1);
    let input = format!("m,label={long} v=1 1\nm,label={long} v=1 2\nm,label=ok v=1 3\n");
    let mut host = FakeHost::new();
    let out = run(&mut plugin(r#"{"tag": "label"}"#), &mut host, &input).unwrap();
    assert_eq!(
        out,
        format!("m,label={long} v=1 1\nm,label={long} v=1 2\nm,label_id=0 v=1 3\n")
    );
    assert!(host.logs().contains(&(
        Level::Warn,
        format!("left 2 points unchanged: their `label` is longer than {MAX_LABEL_BYTES} bytes")
    )));
}

#[test]
fn bad_configs_are_refused_with_the_key_named() {
    let err = |c: &str| load::<LabelId>(c).unwrap_err();
    assert!(err("{}").contains("missing field `tag`"), "{}", err("{}"));
    assert!(err(r#"{"tag": ""}"#).starts_with("`tag` is empty"));
    assert!(err(r#"{"tag": "a\nb"}"#).starts_with("`tag` = \"a\\nb\" holds a line feed"));
    assert!(err(r#"{"tag": "label", "id_tag": ""}"#).starts_with("`id_tag` is empty"));
    assert!(
        err(r#"{"tag": "label", "scope_tags": ["label"]}"#)
            .starts_with("`scope_tags` lists \"label\", the `tag`")
    );
    assert!(
        err(r#"{"tag": "label", "scope_tags": ["label_id"]}"#)
            .starts_with("`scope_tags` lists \"label_id\", the `id_tag`")
    );
    assert!(err(r#"{"tag": "l", "scope_tags": ["f", "f"]}"#).contains("twice"));
    assert!(err(r#"{"tag": "l", "scope_tags": [""]}"#).starts_with("`scope_tags` is empty"));
    assert!(
        err(r#"{"tag": "time", "keep_as_field": true}"#)
            .starts_with("`keep_as_field`: the `tag` \"time\"")
    );
    assert!(err(r#"{"tag": "l", "namespace": ""}"#).starts_with("`namespace` is empty"));
    assert!(err(r#"{"tag": "l", "scopes": []}"#).contains("unknown field `scopes`"));
    assert!(err(r#"{"tag": "l", "keep_as_field": "yes"}"#).contains("invalid type"));
}
