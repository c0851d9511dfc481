//! tag-strip as a component gives exactly what the same code gives natively.

use sluice_host::Context;
use sluice_plugin_sdk::{FakeHost, run_native};
use tag_strip::TagStrip;

use crate::lines::load_test_batch;
use crate::support::load;

#[test]
fn removes_the_node_tag() {
    let plugin = load("strip-node", "tag_strip", r#"{"tags": ["node"]}"#).unwrap();
    let mut instance = plugin.instance().unwrap();
    let out = instance
        .process(
            &Context::default(),
            b"http,node=n1,method=GET d=12i 1700000000000000000\ncpu v=1 2\n",
        )
        .unwrap();
    assert_eq!(
        out,
        b"http,method=GET d=12i 1700000000000000000\ncpu v=1 2\n"
    );
}

/// What the same plugin code gives natively for `batch`.
fn run(native: &mut TagStrip, batch: &[u8]) -> Vec<u8> {
    run_native(
        native,
        &sluice_plugin_sdk::Context::default(),
        batch,
        &mut FakeHost::new(),
    )
    .unwrap()
}

#[test]
fn the_component_matches_the_native_plugin() {
    let config = r#"{"tags": ["node", "flood"], "fields": ["ok"]}"#;
    let plugin = load("strip", "tag_strip", config).unwrap();
    let mut instance = plugin.instance().unwrap();
    let mut native: TagStrip = sluice_plugin_sdk::load(config).unwrap();
    let batch = load_test_batch(5_000);
    let ctx = Context::default();
    for _ in 0..3 {
        let wasm = instance.process(&ctx, &batch).unwrap();
        assert_eq!(wasm, run(&mut native, &batch));
        assert!(!wasm.windows(5).any(|w| w == b"node="));
    }
}

/// Lines that make every scan of the point walk stop somewhere odd: escaped separators
/// in the measurement and tags, `=` in a tag value, string fields holding spaces, commas,
/// `=`, escaped quotes, backslashes, line feeds and non-ASCII text, many fields; each
/// shifted by 0 to 19 bytes, so that every stop lands at every place in a block.
fn tricky_batch() -> Vec<u8> {
    const LINES: [&str; 7] = [
        r#"{m},a\ b=c\,d,k\=ey=v\ al\=ue,node=n1 s="sp ace, comma=eq \"q\" back\\slash",v=1i 1"#,
        "{m},tag_key_that_is_long=value_that_is_longer_than_sixteen,node=n2 f=1.5,s2=\"line\nbreak\" 1700000000000000001",
        r#"{m},node=n3,zz=é€漢字 ok=true,text="ünïcödé ☃ and \"quotes\", and = signs" -1"#,
        "{m},node=n4 a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16 12",
        r#"{m},host=a\ b\,c,node=n5 ok=false,s="ends with backslash\\" 5"#,
        "{m},node=n6,t==b v=1i 6",
        r#"{m},node=n7 s="",t="\\\"",u=" " 7"#,
    ];
    let mut raw = String::new();
    for pad in 0..20 {
        let m = format!("m{}\\ x", "x".repeat(pad));
        for line in LINES {
            raw.push_str(&line.replace("{m}", &m));
            raw.push('\n');
        }
    }
    let mut batch = Vec::new();
    let summary = sluice_lineproto::canonicalize(
        raw.as_bytes(),
        sluice_lineproto::Precision::Nanosecond,
        0,
        &mut batch,
    );
    assert_eq!(summary.points, 20 * LINES.len(), "{summary:?}");
    batch
}

#[test]
fn the_component_matches_the_native_plugin_on_escapes_and_strings() {
    // The component scans with wasm's SIMD intrinsics, the native plugin with `wide`'s
    // (x86-64, aarch64) or eight bytes at a time.
    let batch = tricky_batch();
    for config in [
        r#"{"tags": ["node"]}"#,
        r#"{"tags": ["node", "zz", "t"], "fields": ["s", "text", "k"]}"#,
        r#"{"tags": ["a b", "k=ey", "host"], "fields": ["ok", "u"]}"#,
    ] {
        let plugin = load("strip", "tag_strip", config).unwrap();
        let mut instance = plugin.instance().unwrap();
        let mut native: TagStrip = sluice_plugin_sdk::load(config).unwrap();
        let wasm = instance.process(&Context::default(), &batch).unwrap();
        let expected = run(&mut native, &batch);
        assert_eq!(
            String::from_utf8_lossy(&wasm),
            String::from_utf8_lossy(&expected),
            "{config}"
        );
        assert_ne!(wasm, batch, "{config} changed nothing");
    }
}

#[test]
fn an_empty_batch_stays_empty() {
    let plugin = load("strip", "tag_strip", r#"{"tags": ["node"]}"#).unwrap();
    assert_eq!(
        plugin
            .instance()
            .unwrap()
            .process(&Context::default(), b"")
            .unwrap(),
        b""
    );
}
