//! `sluice plugin build [DIR]`: `cargo build --release --target wasm32-wasip2` in the
//! plugin crate (so its `rust-toolchain.toml` applies), then the component's path and
//! size, read from cargo's own artifact messages rather than guessed.

use anyhow::Context as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target every plugin is built for.
const TARGET: &str = "wasm32-wasip2";

/// Builds the crate in `dir`; returns the component's path.
pub(crate) fn run(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    anyhow::ensure!(
        manifest.is_file(),
        "{} is not a plugin crate (no Cargo.toml); create one with `sluice plugin new NAME`",
        dir.display()
    );
    // `cargo` from PATH (rustup's proxy), so the crate's rust-toolchain.toml applies.
    let cargo = std::env::var_os("SLUICE_CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET, "--lib"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    let mut components = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading cargo's output")?;
            components.extend(wasm_artifacts(&line));
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    anyhow::ensure!(
        status.success(),
        "cargo build failed ({status}); if it says the {TARGET} target is missing, run `rustup target add {TARGET}`"
    );
    let component = components.pop().with_context(|| {
        format!(
            "cargo built no .wasm: is the crate's [lib] crate-type \"cdylib\"? ({})",
            manifest.display()
        )
    })?;
    let bytes = std::fs::metadata(&component)
        .with_context(|| format!("cannot read {}", component.display()))?
        .len();
    println!(
        "{} ({})",
        component.display(),
        bytesize::ByteSize(bytes).display().iec()
    );
    Ok(component)
}

/// The `.wasm` files of a cdylib in one line of cargo's JSON messages.
fn wasm_artifacts(line: &str) -> Vec<PathBuf> {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
        return Vec::new();
    };
    if message["reason"] != "compiler-artifact" {
        return Vec::new();
    }
    let is_cdylib = message["target"]["kind"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
    if !is_cdylib {
        return Vec::new();
    }
    message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .filter(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_component_in_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},"filenames":["/p/target/wasm32-wasip2/release/demo.wasm","/p/target/wasm32-wasip2/release/libdemo.rlib"]}"#;
        assert_eq!(
            wasm_artifacts(line),
            [PathBuf::from("/p/target/wasm32-wasip2/release/demo.wasm")]
        );
        let dep =
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/x.rlib"]}"#;
        assert!(wasm_artifacts(dep).is_empty());
        assert!(wasm_artifacts("Compiling demo").is_empty());
    }
}
