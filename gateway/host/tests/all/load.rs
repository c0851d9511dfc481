//! Loading: a plugin that rejects its config, a missing file, a file that is not a
//! component — each a clean error naming the plugin, found at load time.

use sluice_host::{HostError, Plugin, PluginSpec};

use crate::support::{caps, engine, load, scratch, spec};

#[test]
fn a_rejected_config_fails_the_load_with_the_plugins_message() {
    let err = load("strip", "tag_strip", r#"{"tagz": ["node"]}"#).unwrap_err();
    let HostError::Init { plugin, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(plugin, "strip");
    assert!(
        message.starts_with("invalid config: unknown field `tagz`"),
        "{message}"
    );
    assert!(
        err.to_string()
            .starts_with("plugin \"strip\" rejected its config: invalid config")
    );

    let err = load("strip", "tag_strip", "{}").unwrap_err();
    assert!(err.to_string().contains("nothing to strip"), "{err}");
}

#[test]
fn the_evil_plugins_refusal_is_an_init_error() {
    let err = load("evil", "evil", r#"{"mode": "reject-config"}"#).unwrap_err();
    assert!(
        matches!(&err, HostError::Init { message, .. } if message == "evil plugin rejects its config on purpose"),
        "{err:?}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_with_its_path() {
    let spec = PluginSpec::new("ghost", scratch("load").join("missing.wasm"));
    let err = Plugin::load(engine(), spec, caps()).unwrap_err();
    assert!(
        matches!(&err, HostError::Io { plugin, .. } if plugin == "ghost"),
        "{err:?}"
    );
    assert!(err.to_string().contains("missing.wasm"), "{err}");
}

#[test]
fn a_file_that_is_not_a_component_is_a_compile_error() {
    let path = scratch("load").join("garbage.wasm");
    std::fs::write(&path, b"\0asm\x0d\0\x01\0 definitely not a component").unwrap();
    let err = Plugin::load(engine(), PluginSpec::new("garbage", &path), caps()).unwrap_err();
    assert!(
        matches!(&err, HostError::Compile { plugin, .. } if plugin == "garbage"),
        "{err:?}"
    );
}

#[test]
fn the_sha256_identifies_the_file() {
    let plugin = load("identity", "identity", "{}").unwrap();
    let sha = plugin.sha256();
    assert_eq!(sha.len(), 64);
    assert!(
        sha.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let again = Plugin::load(engine(), spec("other-name", "identity", "{}"), caps()).unwrap();
    assert_eq!(again.sha256(), sha);
    assert_eq!(again.name(), "other-name");
}
