//! `sluice plugin new NAME`: a plugin crate that builds as a component and whose test
//! passes as generated — a working filter (drop the measurements listed in its config,
//! pass the rest) to edit into the plugin you need.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// The toolchain the gateway is built with (and the SDK needs), with the wasm target.
const TOOLCHAIN: &str = include_str!("../../../rust-toolchain.toml");
/// The repository's cargo settings: plugins built with wasm SIMD (see the file).
const CARGO_CONFIG: &str = include_str!("../../../.cargo/config.toml");

/// The SDK of the source tree this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin-sdk");

/// Creates `NAME/` in the current directory.
pub(crate) fn run(name: &str, sdk: Option<PathBuf>) -> anyhow::Result<()> {
    check_name(name)?;
    let dir = PathBuf::from(name);
    anyhow::ensure!(
        !dir.exists(),
        "{} already exists; pick another name or remove it",
        dir.display()
    );
    let sdk = sdk_path(sdk)?;
    let files = scaffold(name, &sdk);
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let wasm = name.replace('-', "_");
    println!("created {name}/ (plugin crate using {})", sdk.display());
    println!("  test natively:   cd {name} && cargo test");
    println!("  build component: sluice plugin build {name}");
    println!(
        "  try it:          sluice plugin test {name}/target/wasm32-wasip2/release/{wasm}.wasm --input some.lp"
    );
    Ok(())
}

/// A crate name cargo accepts and a Rust type can be made of.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    anyhow::ensure!(
        valid,
        "invalid plugin name {name:?}: start with a letter, then letters, digits, '-' or '_'"
    );
    Ok(())
}

/// The SDK to depend on, as an absolute path.
fn sdk_path(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let candidate = explicit.unwrap_or_else(|| PathBuf::from(BUILT_SDK));
    let manifest = candidate.join("Cargo.toml");
    anyhow::ensure!(
        manifest.is_file(),
        "no plugin-sdk at {} (no Cargo.toml there); pass --sdk PATH or set SLUICE_SDK_PATH to the plugin-sdk directory of a Sluice checkout",
        candidate.display()
    );
    candidate
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", candidate.display()))
}

/// `PascalCase` of a crate name.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The files of the crate, relative to its directory.
fn scaffold(name: &str, sdk: &Path) -> Vec<(&'static str, String)> {
    let ty = type_name(name);
    let wasm = name.replace('-', "_");
    let sdk = sdk.display().to_string().replace('\\', "/");
    vec![
        (
            "Cargo.toml",
            CARGO_TOML.replace("{name}", name).replace("{sdk}", &sdk),
        ),
        ("rust-toolchain.toml", TOOLCHAIN.to_owned()),
        (".cargo/config.toml", CARGO_CONFIG.to_owned()),
        (".gitignore", "/target\n".to_owned()),
        (
            "src/lib.rs",
            LIB_RS
                .replace("{name}", name)
                .replace("{Type}", &ty)
                .replace("{wasm}", &wasm),
        ),
    ]
}

const CARGO_TOML: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the WebAssembly component (sluice plugin build); rlib: native unit tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
sluice-plugin-sdk = { path = "{sdk}" }
serde = { version = "1", features = ["derive"] }

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = true

# A workspace of its own, wherever the crate lives.
[workspace]
"#;

const LIB_RS: &str = r##"//! # {name}
//!
//! A Sluice transform plugin: drops the points of the measurements listed in its config
//! and passes every other point through unchanged. Edit `process` to make it yours.
//!
//! - test natively: `cargo test`
//! - build the component: `sluice plugin build .`
//! - run it over line protocol: `sluice plugin test target/wasm32-wasip2/release/{wasm}.wasm --input some.lp`
//! - use it in the gateway:
//!
//! ```toml
//! [[plugins]]
//! name = "{name}"
//! wasm = "path/to/{wasm}.wasm"
//! config = { drop_measurements = ["debug"] }
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::{Batch, Context, Host, LineWriter, Plugin, PluginError};

/// The `config` table of the plugin's `[[plugins]]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Measurements whose points are dropped.
    pub drop_measurements: Vec<String>,
}

/// The plugin; one value per instance, kept across batches.
#[derive(Debug)]
pub struct {Type} {
    drop_measurements: Vec<String>,
}

impl Plugin for {Type} {
    type Config = Config;

    /// Checks the config once; an error here stops the gateway's start with this message.
    fn new(config: Config) -> Result<Self, String> {
        if config.drop_measurements.iter().any(String::is_empty) {
            return Err("drop_measurements: a measurement name is empty".into());
        }
        Ok(Self {
            drop_measurements: config.drop_measurements,
        })
    }

    /// Called once per batch of canonical line protocol: read points from `batch`
    /// (zero-copy), write the output to `out`.
    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        _host: &mut H,
    ) -> Result<(), PluginError> {
        for point in batch.points() {
            let point = point?;
            let measurement = point.measurement();
            if !self.drop_measurements.iter().any(|m| measurement == m.as_str()) {
                out.push_point(&point);
            }
        }
        Ok(())
    }
}

sluice_plugin_sdk::export!({Type});

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{FakeHost, load, run_native};

    #[test]
    fn drops_listed_measurements_and_keeps_the_rest() {
        let mut plugin: {Type} = load(r#"{"drop_measurements": ["debug"]}"#).unwrap();
        let input = b"http,node=n1 d=12i 1\ndebug v=1 2\ncpu v=0.5 3\n";
        let out = run_native(&mut plugin, &Context::default(), input, &mut FakeHost::new()).unwrap();
        assert_eq!(out, b"http,node=n1 d=12i 1\ncpu v=0.5 3\n");
    }

    #[test]
    fn an_empty_name_is_refused() {
        assert!(load::<{Type}>(r#"{"drop_measurements": [""]}"#).is_err());
    }
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert!(check_name("demo-plug_2").is_ok());
        assert!(check_name("2demo").is_err());
        assert!(check_name("de mo").is_err());
        assert!(check_name("").is_err());
        assert_eq!(type_name("demo-plug_2"), "DemoPlug2");
        assert_eq!(type_name("demoplug"), "Demoplug");
    }

    #[test]
    fn scaffold_names_the_crate_type_and_sdk() {
        let files = scaffold("demo-plug", Path::new("/src/plugin-sdk"));
        let cargo = &files[0].1;
        assert!(cargo.contains("name = \"demo-plug\""));
        assert!(cargo.contains("path = \"/src/plugin-sdk\""));
        let file = |name: &str| {
            files
                .iter()
                .find(|(rel, _)| *rel == name)
                .map(|(_, text)| text.as_str())
                .unwrap_or_default()
        };
        let lib = file("src/lib.rs");
        assert!(lib.contains("pub struct DemoPlug {"));
        assert!(lib.contains("export!(DemoPlug)"));
        assert!(lib.contains("release/demo_plug.wasm"));
        assert!(file("rust-toolchain.toml").contains("wasm32-wasip2"));
        assert!(file(".cargo/config.toml").contains("target-feature=+simd128"));
    }
}
