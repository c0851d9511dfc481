//! The compiled-component cache: the first engine compiles and writes the file, a second
//! engine (a restarted gateway) loads it instead of compiling.

use sluice_host::{Context, Engine, Plugin};

use crate::support::{caps, scratch, spec};

#[test]
fn a_second_engine_loads_the_compiled_file() {
    let dir = scratch("cache-hit");
    let _ = std::fs::remove_dir_all(&dir);
    let cached = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".cwasm"))
            .collect::<Vec<_>>()
    };

    let first = Engine::new(Some(dir.clone())).unwrap();
    let plugin = Plugin::load(&first, spec("id", "identity", "{}"), caps()).unwrap();
    assert!(!plugin.cache_hit());
    let files = cached();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with(plugin.sha256()), "{files:?}");

    let second = Engine::new(Some(dir.clone())).unwrap();
    let plugin = Plugin::load(&second, spec("id", "identity", "{}"), caps()).unwrap();
    assert!(plugin.cache_hit());
    assert_eq!(cached(), files);
    let out = plugin
        .instance()
        .unwrap()
        .process(&Context::default(), b"m v=1 1\n")
        .unwrap();
    assert_eq!(out, b"m v=1 1\n");
}

#[test]
fn a_corrupt_cache_entry_is_replaced_by_a_fresh_compile() {
    let dir = scratch("cache-corrupt");
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::new(Some(dir.clone())).unwrap();
    Plugin::load(&engine, spec("id", "identity", "{}"), caps()).unwrap();
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&entry, b"scribbled over").unwrap();

    let engine = Engine::new(Some(dir.clone())).unwrap();
    let plugin = Plugin::load(&engine, spec("id", "identity", "{}"), caps()).unwrap();
    assert!(!plugin.cache_hit());
    assert!(std::fs::read(&entry).unwrap().len() > 1000);
}

#[test]
fn without_a_cache_directory_nothing_is_written() {
    let engine = Engine::new(None).unwrap();
    let plugin = Plugin::load(&engine, spec("id", "identity", "{}"), caps()).unwrap();
    assert!(!plugin.cache_hit());
}
