//! The on-disk cache of compiled components: `DIR/<wasm sha256>-<engine key>.cwasm`,
//! where the engine key hashes wasmtime's `precompile_compatibility_hash` (wasmtime
//! version, target, compiler settings). A changed plugin or a changed engine therefore
//! never finds a stale entry; it compiles and writes a new file.
//!
//! We cache by hand rather than with wasmtime's `cache` feature: that feature pulls a
//! TOML configuration, zstd and a background worker for what is here a rename and an
//! `mmap`, and it does not let us say *where* the files go per gateway.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// The compiled-component cache of one engine.
#[derive(Debug)]
pub(crate) struct ComponentCache {
    dir: PathBuf,
    /// Hex digest of the engine's compatibility hash.
    engine_key: String,
}

/// Feeds `Hash` output into SHA-256, so the key is stable across Rust releases (unlike
/// `DefaultHasher`).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl ComponentCache {
    /// A cache in `dir` (created if missing) for `engine`.
    pub(crate) fn open(dir: &Path, engine: &wasmtime::Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex(&hasher.0.finalize()[..16]);
        Ok(Self {
            dir: dir.to_owned(),
            engine_key,
        })
    }

    /// Where the compiled form of the component with this sha256 lives.
    pub(crate) fn path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    /// The cached component, if there is a usable one. A file that does not load (cut
    /// short, from another build) is removed and reported, and the caller compiles.
    pub(crate) fn load(&self, engine: &wasmtime::Engine, wasm_sha256: &str) -> Option<Component> {
        let path = self.path(wasm_sha256);
        if !path.is_file() {
            return None;
        }
        match deserialize_own_file(engine, &path) {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), error = %error, "ignoring unusable compiled-component cache entry");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes `component` to the cache: a temporary file, synced, then renamed into
    /// place, so a reader (or a crash) never sees half a file, and a file already mapped
    /// by another engine is replaced, never modified.
    pub(crate) fn store(
        &self,
        component: &Component,
        wasm_sha256: &str,
    ) -> Result<PathBuf, String> {
        let bytes = component.serialize().map_err(|e| format!("{e:#}"))?;
        let path = self.path(wasm_sha256);
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", path.display()));
        }
        Ok(path)
    }
}

/// Loads a compiled component this cache wrote.
#[expect(
    unsafe_code,
    reason = "deserializing compiled code is unsafe in wasmtime; isolated here"
)]
fn deserialize_own_file(engine: &wasmtime::Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime trusts a serialized component to be what `Component::serialize`
    // produced; a crafted file could run arbitrary native code. We only open files
    // inside the gateway's own cache directory, named by the sha256 of the component
    // and the engine's compatibility hash, and written by `ComponentCache::store` via
    // rename (so never partially, and never modified in place while mapped). wasmtime
    // still checks the header, version and engine settings and refuses a mismatch.
    unsafe { Component::deserialize_file(engine, path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0, 0xab, 7]), "00ab07");
    }

    #[test]
    fn the_engine_key_is_stable_for_one_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let engine = wasmtime::Engine::default();
        let a = ComponentCache::open(dir.path(), &engine).unwrap();
        let b = ComponentCache::open(dir.path(), &wasmtime::Engine::default()).unwrap();
        assert_eq!(a.path("abc"), b.path("abc"));
        assert!(a.path("abc").to_string_lossy().ends_with(".cwasm"));
    }

    #[test]
    fn a_garbage_entry_is_removed_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let engine = wasmtime::Engine::default();
        let cache = ComponentCache::open(dir.path(), &engine).unwrap();
        std::fs::write(cache.path("abc"), b"not compiled code").unwrap();
        assert!(cache.load(&engine, "abc").is_none());
        assert!(!cache.path("abc").exists());
    }
}
