//! Decimal formatting of integers without allocating, eight digits at a time in a `u64`
//! (for timestamps and integer fields).

/// Eight decimal digits of `n` (< 10^8), as ASCII in a little-endian word (the first
/// digit in the lowest byte) minus `'0'` in each byte, so leading zeros are zero bytes.
#[inline(always)]
fn eight_digits(n: u64) -> u64 {
    // Split into 4-digit halves (one per 32-bit lane, the high half first in memory),
    // then 2-digit quarters per 16-bit lane, then digits per byte. The multiplications
    // divide by 100 and 10 exactly for the ranges involved (< 10^4 and < 10^2).
    let x = (n / 10_000) | ((n % 10_000) << 32);
    let hundreds = ((x * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let x = hundreds | ((x - 100 * hundreds) << 16);
    let tens = ((x * 103) >> 10) & 0x000F_000F_000F_000F;
    tens | ((x - 10 * tens) << 8)
}

/// An integer's decimal digits, formatted without allocating.
pub(crate) struct Decimal {
    /// Right-aligned digits (and sign) in three 8-digit blocks.
    buf: [u8; 24],
    /// Where the text starts in `buf`.
    start: usize,
}

impl Decimal {
    /// Formats a signed integer.
    pub(crate) fn signed(v: i64) -> Self {
        let mut d = Self::unsigned(v.unsigned_abs());
        if v < 0 {
            // At most 19 digits: `start` is at least 5.
            d.start -= 1;
            if let Some(b) = d.buf.get_mut(d.start) {
                *b = b'-';
            }
        }
        d
    }

    /// Formats an unsigned integer.
    pub(crate) fn unsigned(v: u64) -> Self {
        const E8: u64 = 100_000_000;
        let blocks = [v / E8 / E8, v / E8 % E8, v % E8];
        // The first block with a non-zero digit (the last one for 0).
        let first = blocks.iter().position(|&b| b != 0).unwrap_or(2);
        let mut buf = [b'0'; 24];
        let mut start = 0;
        for (i, &block) in blocks.iter().enumerate().skip(first) {
            let digits = eight_digits(block);
            if i == first {
                // Leading zero digits are the low zero bytes; keep at least one digit.
                start = 8 * i + (digits.trailing_zeros() / 8).min(7) as usize;
            }
            let text = (digits | 0x3030_3030_3030_3030).to_le_bytes();
            if let Some(slot) = buf.get_mut(8 * i..8 * i + 8) {
                slot.copy_from_slice(&text);
            }
        }
        Self { buf, start }
    }

    /// The digits.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn formats_extremes_and_every_length() {
        for v in [
            0,
            1,
            -1,
            10,
            -10,
            i64::MAX,
            i64::MIN,
            1_700_000_000_000_000_123,
        ] {
            assert_eq!(Decimal::signed(v).as_bytes(), v.to_string().as_bytes());
        }
        let mut v = 1u64;
        for _ in 0..20 {
            for w in [
                v - 1,
                v,
                v + 1,
                v.saturating_mul(9),
                v.saturating_mul(3).saturating_add(7),
            ] {
                assert_eq!(Decimal::unsigned(w).as_bytes(), w.to_string().as_bytes());
            }
            v = v.saturating_mul(10);
        }
        assert_eq!(
            Decimal::unsigned(u64::MAX).as_bytes(),
            b"18446744073709551615"
        );
    }

    #[test]
    fn formats_every_value_below_a_million() {
        for v in 0..1_000_000u64 {
            assert_eq!(Decimal::unsigned(v).as_bytes(), v.to_string().as_bytes());
        }
    }
}
