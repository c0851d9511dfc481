//! The identity component returns its input byte for byte.

use sluice_host::Context;

use crate::lines::load_test_batch;
use crate::support::load;

#[test]
fn batches_round_trip_unchanged() {
    let plugin = load("identity", "identity", "{}").unwrap();
    let mut instance = plugin.instance().unwrap();
    let ctx = Context::default();
    for batch in [
        load_test_batch(5_000),
        b"m,t=a\\ b s=\"multi\nline \\\"q\\\"\",u=1u,b=true,i=-3i,f=-1.5e-3 -42\n".to_vec(),
        Vec::new(),
    ] {
        assert_eq!(instance.process(&ctx, &batch).unwrap(), batch);
    }
}

#[test]
fn instances_of_one_plugin_are_independent() {
    let plugin = load("identity", "identity", "{}").unwrap();
    let mut a = plugin.instance().unwrap();
    let mut b = plugin.instance().unwrap();
    let ctx = Context::default();
    assert_eq!(a.process(&ctx, b"m v=1 1\n").unwrap(), b"m v=1 1\n");
    assert_eq!(b.process(&ctx, b"m v=2 2\n").unwrap(), b"m v=2 2\n");
    assert_eq!(a.plugin().sha256(), b.plugin().sha256());
}
