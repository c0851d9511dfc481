use super::*;

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| (*k).to_owned()).collect()
}

#[test]
fn ids_are_sequential_per_namespace_and_stable() {
    let kv = EmbeddedKv::in_memory();
    assert_eq!(
        kv.assign_ids("a", &keys(&["x", "y", "x"])).unwrap(),
        [0, 1, 0]
    );
    assert_eq!(kv.assign_ids("a", &keys(&["z", "y"])).unwrap(), [2, 1]);
    assert_eq!(kv.assign_ids("b", &keys(&["z"])).unwrap(), [0]);
    assert_eq!(kv.assign_ids("b", &[]).unwrap(), Vec::<u64>::new());
}

#[test]
fn set_get_and_counters_share_the_value_space() {
    let kv = EmbeddedKv::in_memory();
    kv.set_many(vec![
        ("a".into(), b"1".to_vec()),
        ("b".into(), b"x".to_vec()),
    ])
    .unwrap();
    assert_eq!(
        kv.get_many(&keys(&["a", "missing", "b"])).unwrap(),
        [Some(b"1".to_vec()), None, Some(b"x".to_vec())]
    );
    assert_eq!(kv.incr("a", 41).unwrap(), 42);
    assert_eq!(kv.incr("new", -3).unwrap(), -3);
    let err = kv.incr("b", 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"value at key "b" is not an integer: "x""#
    );
    kv.set_many(vec![("max".into(), i64::MAX.to_string().into_bytes())])
        .unwrap();
    assert!(matches!(
        kv.incr("max", 1),
        Err(CapabilityError::Overflow { .. })
    ));
}

#[test]
fn bad_keys_are_refused_with_the_key_quoted() {
    let kv = EmbeddedKv::in_memory();
    let err = kv.set_many(vec![(String::new(), vec![])]).unwrap_err();
    assert_eq!(err.to_string(), r#"invalid key "": empty"#);
    let long = "k".repeat(5000);
    let err = kv.incr(&long, 1).unwrap_err().to_string();
    assert!(
        err.contains("longer than 4096 bytes") && err.len() < 200,
        "{err}"
    );
}

#[test]
fn a_journaled_store_recovers_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.journal");
    {
        let kv = EmbeddedKv::open(&path).unwrap();
        kv.set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
        kv.incr("n", 5).unwrap();
        kv.assign_ids("ns", &keys(&["a", "b"])).unwrap();
    }
    let kv = EmbeddedKv::open(&path).unwrap();
    assert_eq!(
        kv.get_many(&keys(&["k", "n"])).unwrap(),
        [Some(b"v".to_vec()), Some(b"5".to_vec())]
    );
    assert_eq!(kv.assign_ids("ns", &keys(&["c", "a"])).unwrap(), [2, 0]);
}

#[test]
fn a_journal_full_of_overwrites_is_compacted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.journal");
    {
        let kv = EmbeddedKv::open(&path).unwrap();
        let big = vec![7u8; 64 * 1024];
        for _ in 0..40 {
            kv.set_many(vec![("blob".into(), big.clone())]).unwrap();
        }
    }
    let before = std::fs::metadata(&path).unwrap().len();
    let kv = EmbeddedKv::open(&path).unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(after < before / 10, "{before} -> {after}");
    assert_eq!(
        kv.get_many(&keys(&["blob"])).unwrap()[0].as_deref(),
        Some(&[7u8; 64 * 1024][..])
    );
}
