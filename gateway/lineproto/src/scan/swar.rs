//! Scanning eight bytes at a time in a `u64` ("SIMD within a register"), in safe and
//! portable code: finding the first of a few bytes (where [`super::stops`] has no 128-bit
//! SIMD), and reading eight decimal digits at once.
//!
//! A lane test marks the bytes of a word that may be of interest; the lowest marked byte
//! is exact, higher ones may be false hits, so callers check each byte they are given.

/// `0x01` in every byte.
const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
#[cfg(any(not(sluice_simd), test))]
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `w` equal to `c`.
#[cfg(any(not(sluice_simd), test))]
#[inline(always)]
pub(crate) const fn eq(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * c as u64);
    x.wrapping_sub(LO) & !x & HI
}

/// Marks the bytes of `w` below `n` (at most 128): `lt(w, 0x21)` finds spaces, line
/// feeds and carriage returns (and other control bytes) in one test.
#[cfg(any(not(sluice_simd), test))]
#[inline(always)]
pub(crate) const fn lt(w: u64, n: u8) -> u64 {
    w.wrapping_sub(LO * n as u64) & !w & HI
}

/// The eight bytes at `i` as a little-endian word (the first byte lowest); past the end
/// of `b`, bytes read as `0xFF`, which no lane test marks. `None` at or past the end.
#[cfg(any(not(sluice_simd), test))]
#[inline(always)]
pub(crate) fn word(b: &[u8], i: usize) -> Option<u64> {
    if let Some(w) = b.get(i..i.wrapping_add(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        return Some(u64::from_le_bytes(bytes));
    }
    let rest = b.get(i..).filter(|rest| !rest.is_empty())?;
    let mut bytes = [0xFF; 8];
    bytes.get_mut(..rest.len())?.copy_from_slice(rest);
    Some(u64::from_le_bytes(bytes))
}

/// Index of the first byte at or after `i` that `lanes` marks and `accept` takes (given
/// its index and value), or `b.len()`. The marked bytes of a word are walked without
/// reloading it, so skipping escaped separators and false hits is cheap.
#[cfg(any(not(sluice_simd), test))]
#[inline(always)]
pub(crate) fn find(
    b: &[u8],
    mut i: usize,
    lanes: impl Fn(u64) -> u64,
    mut accept: impl FnMut(usize, u8) -> bool,
) -> usize {
    while let Some(w) = word(b, i) {
        let mut m = lanes(w);
        while m != 0 {
            let p = i + (m.trailing_zeros() / 8) as usize;
            match b.get(p) {
                Some(&c) if accept(p, c) => return p,
                Some(_) => m &= m - 1,
                None => return b.len(),
            }
        }
        i += 8;
    }
    b.len()
}

/// Marks exactly the bytes of `w` equal to `c` (`0x80` in each): no false hits, unlike
/// [`eq`], at a few more operations.
#[inline(always)]
pub(crate) const fn eq_exact(w: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = w ^ (LO * c as u64);
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// The value of the eight ASCII digits in `w` (first digit in the lowest byte), or
/// `None` if they are not all digits.
#[inline(always)]
fn eight_digits(w: u64) -> Option<u64> {
    // Each byte is a digit when its high nibble is 3 and adding 6 keeps it there.
    let all_digits = (w & 0xF0F0_F0F0_F0F0_F0F0)
        | ((w.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
        == 0x3030_3030_3030_3030 | 0x0303_0303_0303_0303;
    if !all_digits {
        return None;
    }
    let v = w - 0x3030_3030_3030_3030;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF)
}

/// Reads the decimal digits at `i` as a `u64`: returns the index of the first
/// non-digit and the value, `None` when it overflows.
#[inline]
pub(crate) fn decimal(b: &[u8], start: usize) -> (usize, Option<u64>) {
    let mut i = start;
    let mut value = 0u64;
    // Wrapping is harmless below 20 digits (they fit a u64); longer runs are read again.
    while let Some(digits) = b
        .get(i..i.wrapping_add(8))
        .and_then(|w| w.first_chunk::<8>())
        .and_then(|w| eight_digits(u64::from_le_bytes(*w)))
    {
        value = value.wrapping_mul(100_000_000).wrapping_add(digits);
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    if i - start < 20 {
        return (i, Some(value));
    }
    let checked = b
        .get(start..i)
        .unwrap_or_default()
        .iter()
        .try_fold(0u64, |v, &c| {
            v.checked_mul(10)?
                .checked_add(u64::from(c.wrapping_sub(b'0')))
        });
    (i, checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    // `find`, `eq` and `lt` are tested through `stops::find` (`scan/stops.rs`), whose
    // tests run every case through this eight-byte loop too.

    #[test]
    fn reads_digits_eight_at_a_time() {
        for text in [
            "0",
            "7",
            "12345678",
            "1700000000000000123",
            "18446744073709551615",
        ] {
            let (end, v) = decimal(text.as_bytes(), 0);
            assert_eq!((end, v), (text.len(), text.parse().ok()), "{text}");
        }
        assert_eq!(decimal(b"18446744073709551616", 0), (20, None));
        assert_eq!(
            decimal(b"00000000000000000000000000042 ", 0),
            (29, Some(42))
        );
        assert_eq!(decimal(b"1234567/9", 0), (7, Some(1_234_567)));
        assert_eq!(decimal(b"12345678:", 0), (8, Some(12_345_678)));
        assert_eq!(decimal(b"x", 0), (0, Some(0)));
        for c in 0..=255u8 {
            let mut w = *b"11111111";
            w[3] = c;
            let expect = c.is_ascii_digit();
            assert_eq!(eight_digits(u64::from_le_bytes(w)).is_some(), expect, "{c}");
        }
    }
}
