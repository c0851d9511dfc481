//! The `kv`, `blob` and `log` imports, called from a component (the evil plugin's
//! well-behaved `probe` mode), observed through recording capabilities.

use sluice_host::caps::Capabilities;
use sluice_host::caps::recording::{Effect, record};
use sluice_host::{Context, Plugin};

use crate::support::{engine, scratch, spec};

#[test]
fn every_import_reaches_its_backend() {
    let dir = scratch("capabilities");
    let _ = std::fs::remove_dir_all(&dir);
    let (caps, effects) = record(Capabilities::embedded(&dir).unwrap());
    let plugin = Plugin::load(
        engine(),
        spec("probe", "evil", r#"{"mode": "probe"}"#),
        caps,
    )
    .unwrap();
    let mut instance = plugin.instance().unwrap();
    let ctx = Context {
        db: "flood".into(),
        ..Context::default()
    };

    let out = instance
        .process(&ctx, b"cpu v=1 1\nmem v=2 2\ncpu v=3 3\n")
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("cpu,id=0,db=flood v=1 1"));
    assert_eq!(lines.next(), Some("mem,id=1,db=flood v=2 2"));
    assert_eq!(lines.next(), Some("cpu,id=0,db=flood v=3 3"));
    let probe = lines.next().unwrap();
    assert!(
        probe.starts_with("probe batches=1i,db=\"flood\",url=\"file://"),
        "{probe}"
    );
    assert!(probe.ends_with("/blobs/probe/batch-1\" 3"), "{probe}");
    assert_eq!(
        std::fs::read(dir.join("blobs/probe/batch-1")).unwrap(),
        b"cpu v=1 1\nmem v=2 2\ncpu v=3 3\n"
    );

    let effects = effects.take();
    assert_eq!(
        effects[..3],
        [
            Effect::KvAssignIds {
                namespace: "probe".into(),
                keys: vec!["cpu".into(), "mem".into(), "cpu".into()],
                ids: vec![0, 1, 0],
            },
            Effect::KvIncr {
                key: "probe-batches".into(),
                delta: 1,
                value: 1,
            },
            Effect::KvSet {
                key: "probe-db".into(),
                value: b"flood".to_vec(),
            },
        ]
    );
    assert!(
        matches!(&effects[3], Effect::BlobPut { key, bytes: 30, .. } if key == "probe/batch-1")
    );

    // The persisted kv keeps ids across a restart: a new plugin over the same directory.
    drop(instance);
    drop(plugin);
    let caps = Capabilities::embedded(&dir).unwrap();
    let plugin = Plugin::load(
        engine(),
        spec("probe", "evil", r#"{"mode": "probe"}"#),
        caps,
    )
    .unwrap();
    let out = plugin
        .instance()
        .unwrap()
        .process(&ctx, b"disk v=1 1\nmem v=1 1\n")
        .unwrap();
    assert!(
        out.starts_with(b"disk,id=2,db=flood v=1 1\nmem,id=1,db=flood v=1 1\nprobe batches=2i")
    );
}
