//! [`Stamper`]: a point's new low bits from its tags' values — an HMAC, remembered per
//! combination — and [`stamp`], the timestamp rewritten with them.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sluice_plugin_sdk::{BytesMap, Escaped, values_key};

/// InfluxDB's smallest timestamp, in nanoseconds.
pub const MIN_TIMESTAMP: i64 = i64::MIN + 2;
/// InfluxDB's largest timestamp, in nanoseconds.
pub const MAX_TIMESTAMP: i64 = i64::MAX - 1;

/// Writes into `out` the cache key of a point: the values of the configured tags as
/// [`encode`] writes them but as written, escapes kept (nothing is unescaped on the hot
/// path; two spellings of one text are two cache entries with the same low bits).
#[inline]
pub(crate) fn encode_key(out: &mut Vec<u8>, values: &[Option<Escaped<'_>>]) {
    values_key(out, values);
}

/// Writes the HMAC message of a point into `out`: per configured tag, in config order,
/// `0` if the point has no such tag, else `1`, the length of the value's unescaped
/// bytes (4 bytes, little-endian) and those bytes. Each part delimits itself, so two
/// different combinations never give the same message, and two spellings of the same
/// text (`a\b`, `a\\b`) give the same one.
pub(crate) fn encode(out: &mut Vec<u8>, values: &[Option<Escaped<'_>>]) {
    out.clear();
    for value in values {
        match value {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                let at = out.len();
                out.extend_from_slice(&[0; 4]);
                let raw = value.as_raw();
                if raw.contains(&b'\\') {
                    out.extend(value.bytes());
                } else {
                    out.extend_from_slice(raw);
                }
                let len = u32::try_from(out.len() - at - 4).unwrap_or(u32::MAX);
                if let Some(slot) = out.get_mut(at..at + 4) {
                    slot.copy_from_slice(&len.to_le_bytes());
                }
            }
        }
    }
}

/// `timestamp` with its low bits (those set in `mask`) replaced by `low`'s, on the
/// two's complement bits, so the result stays within the same `mask + 1` aligned window
/// as the input (for negative timestamps too), clamped to InfluxDB's range at its two
/// ends.
#[inline]
pub(crate) fn stamp(timestamp: i64, low: u64, mask: u64) -> i64 {
    let bits = (timestamp.cast_unsigned() & !mask) | (low & mask);
    bits.cast_signed().clamp(MIN_TIMESTAMP, MAX_TIMESTAMP)
}

/// The low bits of each point: HMAC-SHA256 keyed by the config's `key` of the message
/// ([`encode`]), its last eight bytes read as a big-endian number, masked; remembered by
/// cache key ([`encode_key`]) for up to `capacity` combinations (forgotten all at once
/// when full: the HMAC is a pure function).
#[derive(Clone)]
pub(crate) struct Stamper {
    /// The keyed HMAC, cloned for each message (the key is hashed once).
    mac: Hmac<Sha256>,
    /// The low `bits` bits set.
    mask: u64,
    /// Low bits by cache key.
    cache: BytesMap<u64>,
    /// Most combinations remembered.
    capacity: usize,
    /// Scratch: the message of a combination not in the cache.
    message: Vec<u8>,
}

impl std::fmt::Debug for Stamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Stamper")
            .field("mask", &self.mask)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl Stamper {
    /// A stamper for `key` rewriting the low `bits` bits (1 to 64).
    pub(crate) fn new(key: &[u8], bits: u32, capacity: usize) -> Result<Self, String> {
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| format!("`key`: {e}"))?;
        Ok(Self {
            mac,
            mask: u64::MAX >> (64 - bits.clamp(1, 64)),
            cache: BytesMap::new(),
            capacity,
            message: Vec::new(),
        })
    }

    /// The mask of the rewritten bits.
    pub(crate) fn mask(&self) -> u64 {
        self.mask
    }

    /// The low bits for the tag values `values`, whose cache key is `key`.
    #[inline]
    pub(crate) fn low_bits(&mut self, key: &[u8], values: &[Option<Escaped<'_>>]) -> u64 {
        if let Some(&low) = self.cache.get(key) {
            return low;
        }
        encode(&mut self.message, values);
        let low = self.digest(&self.message);
        if self.capacity > 0 {
            if self.cache.len() >= self.capacity {
                self.cache.clear();
            }
            self.cache.insert(key, low);
        }
        low
    }

    /// Computes the low bits of `message`, without the cache.
    pub(crate) fn digest(&self, message: &[u8]) -> u64 {
        let tag = self
            .mac
            .clone()
            .chain_update(message)
            .finalize()
            .into_bytes();
        let mut last = [0u8; 8];
        if let Some(tail) = tag.get(tag.len() - 8..) {
            last.copy_from_slice(tail);
        }
        u64::from_be_bytes(last) & self.mask
    }

    #[cfg(test)]
    pub(crate) fn cached(&self) -> usize {
        self.cache.len()
    }
}

/// Appends `n` in decimal (`itoa`: four digits per 64-bit division, which wasm runs as
/// a real division).
#[inline]
pub(crate) fn push_i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Digits [`push_stamped`] rewrites in place: their value fits a `u32`, whose division
/// by ten wasm does with a multiplication.
const LOW_DIGITS: usize = 9;
/// 10^[`LOW_DIGITS`].
const LOW_LIMIT: i64 = 1_000_000_000;

/// Appends `stamped`, the timestamp whose canonical digits are `raw` (value `old`) with
/// its low bits rewritten. A rewrite moves a timestamp by less than 2^`bits` ns, so
/// usually only its last nine digits change: those are read, moved and written back
/// without a 64-bit division. A negative or short timestamp, or a carry into the digits
/// above, is written whole ([`push_i64`]).
#[inline]
pub(crate) fn push_stamped(out: &mut Vec<u8>, raw: &[u8], old: i64, stamped: i64) {
    let Some(split) = raw.len().checked_sub(LOW_DIGITS).filter(|&s| s > 0) else {
        return push_i64(out, stamped);
    };
    let (high, low) = raw.split_at(split);
    let low_old = low
        .iter()
        .fold(0i64, |v, &c| v * 10 + i64::from(c.wrapping_sub(b'0')));
    let low_new = stamped
        .checked_sub(old)
        .and_then(|delta| low_old.checked_add(delta))
        .filter(|v| (0..LOW_LIMIT).contains(v));
    match (
        old >= 0 && stamped >= 0,
        low_new.and_then(|v| u32::try_from(v).ok()),
    ) {
        (true, Some(mut v)) => {
            out.extend_from_slice(high);
            let mut digits = [b'0'; LOW_DIGITS];
            for d in digits.iter_mut().rev() {
                // v / 10 for any u32, as a multiplication (wasm has no multiply-high).
                let q = ((u64::from(v) * 0xCCCC_CCCD) >> 35) as u32;
                *d = b'0' + (v - q * 10) as u8;
                v = q;
            }
            out.extend_from_slice(&digits);
        }
        _ => push_i64(out, stamped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_digits_match_the_whole_number() {
        let mut cases = vec![
            (0i64, 5i64),
            (7, 0),
            (999_999_999, 1_000_000_001),
            (1_000_000_000, 999_999_999),
            (1_999_999_999, 2_000_000_000),
            (10_000_000_000, 9_999_999_999),
            (-5, 3),
            (3, -5),
            (-1_700_000_000_000_000_000, -1_700_000_000_000_000_001),
            (MAX_TIMESTAMP, MAX_TIMESTAMP - 524_287),
            (MIN_TIMESTAMP, MIN_TIMESTAMP + 1),
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for k in 0..40_000u64 {
            // Realistic timestamps with the default 19 bits, then any i64 (negatives
            // included) with 1 to 62 bits.
            let (old, bits) = if k % 2 == 0 {
                ((next() >> 2).cast_signed() % 2_000_000_000_000_000_000, 19)
            } else {
                (next().cast_signed(), 1 + next() % 62)
            };
            let mask = (1u64 << bits) - 1;
            let old = old.clamp(MIN_TIMESTAMP, MAX_TIMESTAMP);
            cases.push((old, stamp(old, next(), mask)));
        }
        for (old, stamped) in cases {
            let raw = old.to_string();
            let mut out = b"prefix ".to_vec();
            push_stamped(&mut out, raw.as_bytes(), old, stamped);
            assert_eq!(
                out,
                format!("prefix {stamped}").as_bytes(),
                "{old} -> {stamped}"
            );
        }
    }

    #[test]
    fn stamps_keep_the_high_bits_and_the_range() {
        let low: i64 = (1 << 20) - 1;
        let mask = low.cast_unsigned();
        let t = 1_700_000_000_123_456_789;
        let s = stamp(t, 0xABCDE, mask);
        assert_eq!(s & !low, t & !low);
        assert_eq!(s & low, 0xABCDE);
        // Negative: the two's complement bits, in the same aligned window.
        let t = -1_700_000_000_123_456_789;
        let s = stamp(t, 0x12345, mask);
        assert_eq!(s & !low, t & !low);
        assert_eq!(s & low, 0x12345);
        assert!(s < 0 && (t - s).abs() <= low);
        assert_eq!(stamp(-1, 0, mask), -(1 << 20));
        // The ends of InfluxDB's range are clamped.
        assert_eq!(stamp(MIN_TIMESTAMP, 0, mask), MIN_TIMESTAMP);
        assert_eq!(stamp(MIN_TIMESTAMP, 5, mask), i64::MIN + 5);
        assert_eq!(stamp(MAX_TIMESTAMP, mask, mask), MAX_TIMESTAMP);
        assert_eq!(stamp(MAX_TIMESTAMP, 0, mask), (i64::MAX >> 20) << 20);
    }

    #[test]
    fn low_bits_are_the_hmac_tail_and_cached() {
        let batch = sluice_plugin_sdk::Batch::new(b"m,a=x,b=y\\ z v=1 1\n");
        let point = batch.points().next().unwrap().unwrap();
        let tags: Vec<_> = point.tags().map(|(_, v)| Some(v)).collect();
        let mut stamper = Stamper::new(b"k", 32, 2).unwrap();
        let mut key = Vec::new();
        let mut message = Vec::new();
        // The message: unescaped and length-prefixed; the cache key: as written.
        encode(&mut message, &tags);
        assert_eq!(message, b"\x01\x01\0\0\0x\x01\x03\0\0\0y z");
        encode_key(&mut key, &tags);
        assert_eq!(key, b"\x01\x01\0\0\0x\x01\x04\0\0\0y\\ z");
        let full = Hmac::<Sha256>::new_from_slice(b"k")
            .unwrap()
            .chain_update(&message)
            .finalize()
            .into_bytes();
        let tail = u32::from_be_bytes([full[28], full[29], full[30], full[31]]);
        assert_eq!(stamper.low_bits(&key, &tags), u64::from(tail));
        assert_eq!(
            stamper.low_bits(b"other", &tags[..1]),
            stamper.digest(b"\x01\x01\0\0\0x")
        );
        assert_eq!(stamper.cached(), 2);
        stamper.low_bits(b"third", &[]);
        assert_eq!(stamper.cached(), 1, "a full cache starts over");
        assert_eq!(Stamper::new(b"k", 1, 0).unwrap().mask(), 1);
    }

    #[test]
    fn decimals() {
        let mut out = Vec::new();
        for n in [
            0,
            -1,
            9,
            -10,
            4_294_967_295,
            4_294_967_296,
            100_000_000,
            1_700_000_000_000_000_007,
            -1_000_000_000_000_000_000,
            i64::MAX,
            i64::MIN,
            MIN_TIMESTAMP,
        ] {
            out.clear();
            push_i64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
