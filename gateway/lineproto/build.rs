//! Sets `sluice_simd` where the line-protocol scans test sixteen bytes at a time with
//! 128-bit SIMD (`scan/simd.rs`): x86-64 (SSE2 is part of its baseline), aarch64 (NEON)
//! and wasm32 built with `simd128` (the plugins). Elsewhere they test eight bytes at a
//! time in a `u64` (`scan/swar.rs`), which beats `wide`'s lane-by-lane fallback.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sluice_simd)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |feature: &str| features.split(',').any(|f| f == feature);
    let simd = match arch.as_str() {
        "x86_64" => has("sse2"),
        "aarch64" => has("neon"),
        "wasm32" => has("simd128"),
        _ => false,
    };
    if simd {
        println!("cargo::rustc-cfg=sluice_simd");
    }
}
