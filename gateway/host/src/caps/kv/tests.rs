use super::*;

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| (*k).to_owned()).collect()
}

#[test]
fn ids_are_sequential_per_namespace_and_stable() {
    let kv = EmbeddedKv::in_memory().unwrap();
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
    let kv = EmbeddedKv::in_memory().unwrap();
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
    let kv = EmbeddedKv::in_memory().unwrap();
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
fn a_persisted_store_recovers_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    {
        let kv = EmbeddedKv::open(&path).unwrap();
        kv.set_many(vec![("k".into(), b"v".to_vec())]).unwrap();
        kv.incr("n", 5).unwrap();
        kv.assign_ids("ns", &keys(&["a", "b"])).unwrap();
        // All known: no id is assigned, nothing is written.
        assert_eq!(kv.assign_ids("ns", &keys(&["b", "a"])).unwrap(), [1, 0]);
    }
    let kv = EmbeddedKv::open(&path).unwrap();
    assert_eq!(
        kv.get_many(&keys(&["k", "n"])).unwrap(),
        [Some(b"v".to_vec()), Some(b"5".to_vec())]
    );
    assert_eq!(kv.assign_ids("ns", &keys(&["c", "a"])).unwrap(), [2, 0]);
}

#[test]
fn a_second_opener_is_refused_with_the_path_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    let first = EmbeddedKv::open(&path).unwrap();
    first.incr("n", 1).unwrap();
    let err = EmbeddedKv::open(&path).unwrap_err();
    assert!(
        matches!(&err, CapabilityError::Locked { path: p } if *p == path),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} is locked: another process (a running gateway?) uses this store",
            path.display()
        )
    );
    drop(first);
    assert_eq!(EmbeddedKv::open(&path).unwrap().incr("n", 1).unwrap(), 2);
}

#[test]
fn a_foreign_file_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let err = EmbeddedKv::open(&path).unwrap_err();
    assert!(
        matches!(&err, CapabilityError::Corrupt { path: p, .. } if *p == path),
        "{err:?}"
    );
}

#[test]
fn concurrent_callers_never_share_an_id() {
    let kv = std::sync::Arc::new(EmbeddedKv::in_memory().unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let kv = std::sync::Arc::clone(&kv);
            std::thread::spawn(move || {
                let ks: Vec<String> = (0..50).map(|i| format!("k{}", (i * 7 + t) % 100)).collect();
                (ks.clone(), kv.assign_ids("ns", &ks).unwrap())
            })
        })
        .collect();
    let mut seen = std::collections::HashMap::new();
    for t in threads {
        let (ks, ids) = t.join().unwrap();
        for (k, id) in ks.into_iter().zip(ids) {
            assert_eq!(*seen.entry(k).or_insert(id), id);
        }
    }
    let mut ids: Vec<u64> = seen.values().copied().collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..seen.len() as u64).collect::<Vec<_>>());
}
