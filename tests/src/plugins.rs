//! The plugin components the tests configure: the reference plugins and the test plugins
//! of `tests/plugins/`, built by `tests/run.sh` into `plugins/target/wasm32-wasip2/release`.

use crate::binary::workspace_root;
use std::path::PathBuf;

/// The component of the plugin crate `name` (`tag-strip`, `identity`, `evil`).
///
/// # Panics
/// If it has not been built, saying how to build it.
pub fn plugin_wasm(name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    let path = workspace_root()
        .join("plugins/target/wasm32-wasip2/release")
        .join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the plugins first (tests/run.sh does: \
         cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml)",
        path.display()
    );
    path
}
