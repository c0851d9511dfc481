//! Sixteen bytes at a time with wasm's 128-bit SIMD (`simd128`), in safe code; built only
//! where the build script sets `sluice_simd`. A [`Vector`] is compared against a few bytes
//! and reduced to one bit per byte, the first byte lowest.
//!
//! On wasm32 calling the `simd128` intrinsics is safe: an engine without SIMD refuses the
//! module, it never runs an unsupported instruction. On x86-64 the same intrinsics need
//! `unsafe`, so native builds scan eight bytes at a time ([`super::swar`]).

use core::arch::wasm32::{u8x16, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_or};

/// Sixteen bytes of a batch.
#[derive(Clone, Copy)]
pub(crate) struct Vector(v128);

impl Vector {
    /// The sixteen bytes at `i`; past the end of `b` they read as `0xFF`, which no scan
    /// looks for. `None` at or past the end.
    #[inline(always)]
    pub(crate) fn load(b: &[u8], i: usize) -> Option<Self> {
        let c: [u8; 16] = match b.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            Some(bytes) => *bytes,
            None => {
                let rest = b.get(i..).filter(|rest| !rest.is_empty())?;
                let mut bytes = [0xFF; 16];
                bytes.get_mut(..rest.len())?.copy_from_slice(rest);
                bytes
            }
        };
        Some(Self(u8x16(
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
            c[14], c[15],
        )))
    }

    /// One bit per byte (the first byte lowest), set where the byte is below `below`
    /// (none when 0; unsigned) or one of `any`.
    #[inline(always)]
    pub(crate) fn marks(self, below: u8, any: &[u8]) -> u16 {
        let mut m = if below > 0 {
            u8x16_lt(self.0, u8x16_splat(below))
        } else {
            u8x16_splat(0)
        };
        for &c in any {
            m = v128_or(m, u8x16_eq(self.0, u8x16_splat(c)));
        }
        u8x16_bitmask(m)
    }
}
