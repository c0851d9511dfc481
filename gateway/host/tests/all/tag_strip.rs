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
        let expected = run_native(
            &mut native,
            &sluice_plugin_sdk::Context::default(),
            &batch,
            &mut FakeHost::new(),
        )
        .unwrap();
        assert_eq!(wasm, expected);
        assert!(!wasm.windows(5).any(|w| w == b"node="));
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
