//! Sets `sluice_simd` where the line-protocol scans test sixteen bytes at a time with
//! 128-bit SIMD (`scan/simd.rs`): x86-64 (SSE2 is part of its baseline), aarch64 (NEON)
//! and wasm32 built with `simd128` (the plugins). Elsewhere they test eight bytes at a
//! time in a `u64` (`scan/swar.rs`), which beats `wide`'s lane-by-lane fallback. Setting
//! `SLUICE_LINEPROTO_NO_SIMD` forces the `u64` loop (the test script runs the crate's
//! tests that way too, so both loops are tested on every machine).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=SLUICE_LINEPROTO_NO_SIMD");
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
    if simd && std::env::var_os("SLUICE_LINEPROTO_NO_SIMD").is_none() {
        println!("cargo::rustc-cfg=sluice_simd");
    }
}
