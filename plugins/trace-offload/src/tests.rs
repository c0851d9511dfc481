//! Native unit tests of [`TraceOffload`] with the SDK's in-memory host.

use super::*;
use sluice_plugin_sdk::{FakeHost, RunError, load, run_native};

/// Loads the plugin from JSON config text.
fn plugin(config: &str) -> TraceOffload {
    load(config).unwrap()
}

/// Runs one batch through `plugin` against `host`.
fn run(plugin: &mut TraceOffload, host: &mut FakeHost, input: &str) -> Result<String, RunError> {
    let out = run_native(plugin, &Context::default(), input.as_bytes(), host)?;
    Ok(String::from_utf8(out).unwrap())
}

/// The blob key of `text` with `prefix`.
fn key(prefix: &str, text: &[u8]) -> String {
    let mut key = prefix.to_owned();
    push_hex(&mut key, &Sha256::digest(text));
    key
}

const TRACE: &str = r#"{"fields": ["trace"], "min_bytes": 16, "pointer_field": "trace_url"}"#;

#[test]
fn a_large_field_goes_to_blob_and_a_pointer_takes_its_place() {
    let trace = "x".repeat(5000) + "END";
    let input = format!("err,label=a code=500i,trace=\"{trace}\",ok=false 1700000000000000000\n");
    let mut host = FakeHost::new();
    let out = run(
        &mut plugin(r#"{"fields": ["trace"], "pointer_field": "trace_url"}"#),
        &mut host,
        &input,
    )
    .unwrap();
    let k = key("", trace.as_bytes());
    assert_eq!(
        out,
        format!("err,label=a code=500i,trace_url=\"memory://{k}\",ok=false 1700000000000000000\n")
    );
    assert_eq!(host.blobs()[&k], trace.as_bytes());
    assert_eq!(host.calls(), 1);
    assert_eq!(
        host.logs(),
        [(
            Level::Debug,
            "offloaded 1 fields to 1 blobs (5003 bytes)".to_owned()
        )]
    );
}

#[test]
fn the_blob_holds_the_unescaped_text_byte_for_byte() {
    // Escaped quotes and backslashes are unescaped; `\n` as two characters, commas,
    // spaces, `=` and a real line break stay as they are.
    let written = "say \\\"hi\\\", a=b \\\\ c\\n\nnext line";
    let text = "say \"hi\", a=b \\ c\\n\nnext line";
    let input = format!("m,t=a\\ b trace=\"{written}\" 1\n");
    let mut host = FakeHost::new();
    let out = run(&mut plugin(TRACE), &mut host, &input).unwrap();
    let k = key("", text.as_bytes());
    assert_eq!(out, format!("m,t=a\\ b trace_url=\"memory://{k}\" 1\n"));
    assert_eq!(host.blobs()[&k], text.as_bytes());
}

#[test]
fn the_size_is_that_of_the_text_and_min_bytes_is_the_smallest_offloaded() {
    let mut host = FakeHost::new();
    let mut offload = plugin(TRACE);
    let exactly = "y".repeat(16);
    let under = "z".repeat(15);
    // 17 bytes as written, 15 once unescaped.
    let escaped = "\\\\".repeat(2) + &"w".repeat(13);
    let input =
        format!("m trace=\"{exactly}\" 1\nm trace=\"{under}\" 2\nm trace=\"{escaped}\" 3\n");
    let out = run(&mut offload, &mut host, &input).unwrap();
    let k = key("", exactly.as_bytes());
    assert_eq!(
        out,
        format!("m trace_url=\"memory://{k}\" 1\nm trace=\"{under}\" 2\nm trace=\"{escaped}\" 3\n")
    );
    assert_eq!(host.blobs().len(), 1);
}

#[test]
fn only_listed_string_fields_move() {
    let big = "q".repeat(40);
    let input = format!(
        "m body=\"{big}\",trace=5i,traces=\"{big}\" 1\ncpu v=1 2\nm,trace=t v=\"{big}\" 3\n"
    );
    let mut host = FakeHost::new();
    assert_eq!(run(&mut plugin(TRACE), &mut host, &input).unwrap(), input);
    assert_eq!(host.calls(), 0, "nothing to offload, no blob call");
}

#[test]
fn several_fields_get_their_own_pointer_and_equal_texts_share_a_blob() {
    let a = "a".repeat(30);
    let b = "b".repeat(30);
    let config = r#"{"fields": ["trace", "res body"], "min_bytes": 20, "prefix": "flood/traces/"}"#;
    let input = format!(
        "http trace=\"{a}\",res\\ body=\"{b}\",code=200i 1\n\
         http,node=n2 res\\ body=\"{a}\" 2\n\
         http trace=\"short\" 3\n"
    );
    let mut host = FakeHost::new();
    let out = run(&mut plugin(config), &mut host, &input).unwrap();
    let (ka, kb) = (
        key("flood/traces/", a.as_bytes()),
        key("flood/traces/", b.as_bytes()),
    );
    assert_eq!(
        out,
        format!(
            "http trace_url=\"memory://{ka}\",res\\ body_url=\"memory://{kb}\",code=200i 1\n\
             http,node=n2 res\\ body_url=\"memory://{ka}\" 2\n\
             http trace=\"short\" 3\n"
        )
    );
    assert_eq!(host.blobs().len(), 2);
    assert_eq!(host.calls(), 1, "one put-many for the whole batch");
}

#[test]
fn a_retried_batch_writes_the_same_objects() {
    let input: String = (0..20)
        .map(|i| format!("m,n=n{i} trace=\"{}\" {i}\n", "t".repeat(20 + i % 4)))
        .collect();
    let mut host = FakeHost::new();
    let mut offload = plugin(TRACE);
    let first = run(&mut offload, &mut host, &input).unwrap();
    let blobs = host.blobs().clone();
    assert_eq!(blobs.len(), 4);
    assert_eq!(run(&mut offload, &mut host, &input).unwrap(), first);
    assert_eq!(run(&mut plugin(TRACE), &mut host, &input).unwrap(), first);
    assert_eq!(host.blobs(), &blobs);
    assert_eq!(host.calls(), 3);
}

#[test]
fn the_pointer_may_keep_the_field_name() {
    let input = format!("m trace=\"{}\" 1\n", "p".repeat(20));
    let mut host = FakeHost::new();
    let out = run(
        &mut plugin(r#"{"fields": ["trace"], "min_bytes": 1, "pointer_field": "{field}"}"#),
        &mut host,
        &input,
    )
    .unwrap();
    assert_eq!(
        out,
        format!(
            "m trace=\"memory://{}\" 1\n",
            key("", "p".repeat(20).as_bytes())
        )
    );
}

#[test]
fn an_unavailable_blob_store_is_a_transient_error() {
    let mut host = FakeHost::new();
    host.fail_with(Some("s3: 503 Slow Down"));
    let input = format!("m trace=\"{}\" 1\n", "x".repeat(100));
    let err = run(&mut plugin(TRACE), &mut host, &input).unwrap_err();
    assert_eq!(
        err,
        RunError::Plugin(PluginError::Unavailable(
            "blob put-many of 1 objects: s3: 503 Slow Down".into()
        ))
    );
    // A batch with nothing to offload does not need the store.
    assert_eq!(
        run(&mut plugin(TRACE), &mut host, "m v=1 1\n").unwrap(),
        "m v=1 1\n"
    );
}

#[test]
fn an_empty_batch_makes_no_call() {
    let mut host = FakeHost::new();
    assert_eq!(run(&mut plugin(TRACE), &mut host, "").unwrap(), "");
    assert_eq!(host.calls(), 0);
}

#[test]
fn bad_configs_are_refused_with_the_key_named() {
    let err = |c: &str| load::<TraceOffload>(c).unwrap_err();
    assert!(err("{}").contains("missing field `fields`"));
    assert!(err(r#"{"fields": []}"#).starts_with("`fields` is empty"));
    assert!(err(r#"{"fields": [""]}"#).starts_with("`fields` names an empty field key"));
    assert!(err(r#"{"fields": ["time"]}"#).starts_with("`fields` names the field \"time\""));
    assert!(err(r#"{"fields": ["a", "a"]}"#).contains("twice"));
    assert!(
        err(r#"{"fields": ["a", "b"], "pointer_field": "url"}"#)
            .starts_with("`pointer_field` = \"url\" has no {field}")
    );
    assert!(
        err(r#"{"fields": ["a"], "pointer_field": ""}"#)
            .starts_with("`pointer_field` names an empty")
    );
    assert!(
        err(r#"{"fields": ["a", "a_url"]}"#)
            .starts_with("`pointer_field` names \"a_url\" for \"a\", another field")
    );
    assert!(
        err(r#"{"fields": ["a"], "prefix": "/abs"}"#)
            .starts_with("`prefix` = \"/abs\": keys would have an empty path segment")
    );
    assert!(err(r#"{"fields": ["a"], "prefix": "../"}"#).contains("start with '.'"));
    assert!(err(r#"{"fields": ["a"], "prefix": "a b/"}"#).contains("only A-Z"));
    assert!(err(r#"{"fields": ["a"], "min_bytes": -1}"#).contains("invalid value"));
    assert!(err(r#"{"fields": ["a"], "size": 1}"#).contains("unknown field `size`"));
}
