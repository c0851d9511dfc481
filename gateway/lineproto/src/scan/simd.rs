//! Sixteen bytes at a time with 128-bit SIMD, in safe code; built only where the build
//! script sets `sluice_simd`. A [`Vector`] is compared against a few bytes and reduced to
//! one bit per byte, the first byte lowest.
//!
//! On wasm32 (the plugins, built with `simd128`) the intrinsics are called directly: there
//! they are safe, since an engine without SIMD refuses the module rather than run an
//! unsupported instruction. Native builds go through the `wide` crate (SSE2, NEON), whose
//! safe wrappers stand for the `unsafe` those intrinsics need; on wasm its wrappers were
//! not always inlined into the plugins' hot loops (ts-dedup ~7% slower).

#[cfg(target_arch = "wasm32")]
use core::arch::wasm32::{u8x16, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_or};

/// Sixteen bytes of a batch.
#[derive(Clone, Copy)]
pub(crate) struct Vector(Lanes);

/// The sixteen lanes: wasm's own vector type.
#[cfg(target_arch = "wasm32")]
type Lanes = v128;
/// The sixteen lanes: `wide`'s vector (SSE2, NEON).
#[cfg(not(target_arch = "wasm32"))]
type Lanes = wide::u8x16;

impl Vector {
    /// The sixteen bytes at `i`; past the end of `b` they read as `0xFF`, which no scan
    /// looks for. `None` at or past the end.
    #[inline(always)]
    pub(crate) fn load(b: &[u8], i: usize) -> Option<Self> {
        let bytes: [u8; 16] = match b.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            Some(bytes) => *bytes,
            None => {
                let rest = b.get(i..).filter(|rest| !rest.is_empty())?;
                let mut bytes = [0xFF; 16];
                bytes.get_mut(..rest.len())?.copy_from_slice(rest);
                bytes
            }
        };
        Some(Self(lanes(bytes)))
    }

    /// One bit per byte (the first byte lowest), set where the byte is below `below`
    /// (none when 0; unsigned) or one of `any`.
    #[inline(always)]
    pub(crate) fn marks(self, below: u8, any: &[u8]) -> u16 {
        #[cfg(target_arch = "wasm32")]
        {
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
        #[cfg(not(target_arch = "wasm32"))]
        {
            let mut m = if below > 0 {
                self.0.simd_lt(wide::u8x16::splat(below))
            } else {
                wide::u8x16::ZERO
            };
            for &c in any {
                m |= self.0.simd_eq(wide::u8x16::splat(c));
            }
            // Sixteen lanes: only the low sixteen bits can be set.
            m.to_bitmask() as u16
        }
    }
}

/// The lanes holding `c`, first byte in lane 0.
#[cfg(target_arch = "wasm32")]
#[inline(always)]
fn lanes(c: [u8; 16]) -> Lanes {
    u8x16(
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
        c[14], c[15],
    )
}

/// The lanes holding `c`, first byte in lane 0.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn lanes(c: [u8; 16]) -> Lanes {
    wide::u8x16::new(c)
}
