//! Sets `sluice_simd` where the line-protocol scans test sixteen bytes at a time with
//! 128-bit SIMD that safe code can use: wasm32 built with `simd128` (the plugins). Native
//! builds test eight bytes at a time in a `u64`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sluice_simd)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if arch == "wasm32" && features.split(',').any(|f| f == "simd128") {
        println!("cargo::rustc-cfg=sluice_simd");
    }
}
