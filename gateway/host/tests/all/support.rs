//! Shared by the test modules: where the prebuilt plugin components are, one engine
//! with a compile cache, and loading helpers.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use sluice_host::caps::Capabilities;
use sluice_host::{Engine, HostError, Plugin, PluginSpec};

/// The prebuilt component `name` (`tag_strip`, `identity`, `evil`).
pub(crate) fn component(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing; build the plugins first:\n    cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml",
        path.display()
    );
    path
}

/// A directory for this test binary's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sluice-host-tests")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One engine for the tests, caching compiled components so each is compiled once.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: LazyLock<Engine> =
        LazyLock::new(|| Engine::new(Some(scratch("cache"))).unwrap());
    &ENGINE
}

/// Throwaway capabilities (in-memory kv, blobs under the scratch directory).
pub(crate) fn caps() -> Capabilities {
    Capabilities::ephemeral(&scratch("blobs")).unwrap()
}

/// A spec for component `wasm` with `config`.
pub(crate) fn spec(name: &str, wasm: &str, config: &str) -> PluginSpec {
    let mut spec = PluginSpec::new(name, component(wasm));
    spec.config_json = config.into();
    spec
}

/// Loads component `wasm` as plugin `name` with `config`.
pub(crate) fn load(name: &str, wasm: &str, config: &str) -> Result<Plugin, HostError> {
    Plugin::load(engine(), spec(name, wasm, config), caps())
}
