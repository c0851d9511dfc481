//! Finding the first byte of a small set ([`Stops`]): the scans' inner loop. Sixteen
//! bytes at a time with 128-bit SIMD where the build script set `sluice_simd` (x86-64,
//! aarch64, and wasm32 with `simd128`: the plugins), eight at a time in a `u64`
//! elsewhere ([`swar`]). Both give the same answers; the SIMD marks are exact, the SWAR
//! ones may hold false hits above the first, so every caller checks the bytes it is
//! given. The build script's `SLUICE_LINEPROTO_NO_SIMD` forces the SWAR loop, so that
//! its tests run on SIMD machines too.

#[cfg(sluice_simd)]
use super::simd::Vector;
#[cfg(any(not(sluice_simd), test))]
use super::swar;

/// A set of bytes a scan stops at: every byte below `below` (none when 0; at most `0x80`,
/// the most the SWAR test handles) and each byte of `any`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stops {
    /// Bytes below this one stop the scan (0: none do).
    pub(crate) below: u8,
    /// These bytes stop the scan.
    pub(crate) any: &'static [u8],
}

impl Stops {
    /// Marks (`0x80`) the bytes of `w` in the set: the lowest mark is exact, higher
    /// ones may be false hits.
    #[cfg(any(not(sluice_simd), test))]
    #[inline(always)]
    fn word(self, w: u64) -> u64 {
        debug_assert!(self.below <= 0x80, "SWAR `lt` marks bytes below 0x80 only");
        let mut m = if self.below > 0 {
            swar::lt(w, self.below)
        } else {
            0
        };
        for &c in self.any {
            m |= swar::eq(w, c);
        }
        m
    }
}

/// A quote or a backslash: where a string value may end.
const STRING_END: Stops = Stops {
    below: 0,
    any: b"\"\\",
};

/// A line feed.
const LINE_FEED: Stops = Stops {
    below: 0,
    any: b"\n",
};

/// Index of the first byte at or after `i` in `stops` that `accept` takes (given its
/// index and value), or `b.len()`. The marked bytes of a block are walked without reading
/// it again, so skipping escaped separators and false hits is cheap.
#[inline(always)]
pub(crate) fn find(
    b: &[u8],
    i: usize,
    stops: Stops,
    accept: impl FnMut(usize, u8) -> bool,
) -> usize {
    #[cfg(sluice_simd)]
    {
        find16(
            b,
            i,
            |at| Vector::load(b, at).map(|v| v.marks(stops.below, stops.any)),
            accept,
        )
    }
    #[cfg(not(sluice_simd))]
    {
        swar::find(b, i, |w| stops.word(w), accept)
    }
}

/// [`find`] sixteen bytes at a time: `marks(at)` gives one bit per byte of the block at
/// `at` (the first byte lowest; none past the end of `b`), `None` at or past the end.
#[cfg(any(sluice_simd, test))]
#[inline(always)]
fn find16(
    b: &[u8],
    mut i: usize,
    marks: impl Fn(usize) -> Option<u16>,
    mut accept: impl FnMut(usize, u8) -> bool,
) -> usize {
    while let Some(mut m) = marks(i) {
        while m != 0 {
            let p = i + m.trailing_zeros() as usize;
            match b.get(p) {
                Some(&c) if accept(p, c) => return p,
                Some(_) => m &= m - 1,
                None => return b.len(),
            }
        }
        i += 16;
    }
    b.len()
}

/// The first quote or backslash at or after `i` (where a string may end), or `b.len()`.
#[inline(always)]
pub(crate) fn string_stop(b: &[u8], i: usize) -> usize {
    find(b, i, STRING_END, |_, c| c == b'"' || c == b'\\')
}

/// The first line feed at or after `i`, or `b.len()`.
#[inline(always)]
pub(crate) fn line_feed(b: &[u8], i: usize) -> usize {
    find(b, i, LINE_FEED, |_, _| true)
}

/// Exact marks of a block of [`SPAN`] bytes ([`exact_marks`]): a bit per byte with SIMD,
/// `0x80` per byte with SWAR.
#[cfg(sluice_simd)]
pub(crate) type Marks = u16;
/// Exact marks of a block of [`SPAN`] bytes ([`exact_marks`]): a bit per byte with SIMD,
/// `0x80` per byte with SWAR.
#[cfg(not(sluice_simd))]
pub(crate) type Marks = u64;

/// How many bytes one [`Marks`] covers.
pub(crate) const SPAN: usize = if cfg!(sluice_simd) { 16 } else { 8 };

/// Offset in its block of the first byte `m` (not 0) marks.
#[inline(always)]
pub(crate) fn first_mark(m: Marks) -> usize {
    if cfg!(sluice_simd) {
        m.trailing_zeros() as usize
    } else {
        (m.trailing_zeros() / 8) as usize
    }
}

/// Marks exactly the bytes of `set` among the [`SPAN`] bytes at `i` (none past the end of
/// `b`); `None` at or past the end.
#[inline(always)]
pub(crate) fn exact_marks(b: &[u8], i: usize, set: &'static [u8]) -> Option<Marks> {
    #[cfg(sluice_simd)]
    {
        Vector::load(b, i).map(|v| v.marks(0, set))
    }
    #[cfg(not(sluice_simd))]
    {
        let w = swar::word(b, i)?;
        Some(set.iter().fold(0, |m, &c| m | swar::eq_exact(w, c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backslash, `,`, `=`, or a byte below `!`.
    const NAME: Stops = Stops {
        below: b'!',
        any: b",=\\",
    };

    /// [`find16`]'s marks computed a byte at a time, as the SIMD ones are: this runs
    /// the sixteen-byte loop in native tests too.
    fn scalar_marks(b: &[u8], at: usize, stops: Stops) -> Option<u16> {
        let block = b.get(at..).filter(|rest| !rest.is_empty())?;
        Some(block.iter().take(16).enumerate().fold(0, |m, (k, &c)| {
            let hit = c < stops.below || stops.any.contains(&c);
            m | (u16::from(hit) << k)
        }))
    }

    /// The loop this build uses, the sixteen-byte one and the eight-byte one must all
    /// give the same answer.
    fn both(b: &[u8], i: usize, stops: Stops, accept: impl Fn(usize, u8) -> bool) -> usize {
        let wide = find16(b, i, |at| scalar_marks(b, at, stops), &accept);
        assert_eq!(find(b, i, stops, &accept), wide, "{b:?} from {i}");
        let narrow = swar::find(b, i, |w| stops.word(w), &accept);
        assert_eq!(narrow, wide, "{b:?} from {i}, eight bytes at a time");
        wide
    }

    fn name_stop(b: &[u8], i: usize) -> usize {
        both(b, i, NAME, |_, _| true)
    }

    #[test]
    fn finds_the_first_stop_in_and_after_a_block() {
        for (input, at) in [
            (&b"abcdefghij,k"[..], 10),
            (b"ab=cdefghij,k", 2),
            (b"abcdefgh", 8),
            (b"", 0),
            (b"abcdefg\\", 7),
            (b"\xFF\x80\x81 x", 3),
            (b"!-+,", 3),
            (b"abcdefghijklmnopqrstuvwxyz=", 26),
        ] {
            assert_eq!(name_stop(input, 0), at, "{input:?}");
        }
        assert_eq!(name_stop(b"a,b,c", 2), 3);
        assert_eq!(name_stop(b"a,b", 9), 3);
        assert_eq!(name_stop(b"ab\tc", 0), 2, "a control byte is a stop");
        assert_eq!(name_stop(b"a!b", 0), 3, "`!` is not below `!`");
        assert_eq!(string_stop(b"abc def, =\"x", 0), 10);
        assert_eq!(string_stop(b"abc\\", 0), 3);
        assert_eq!(line_feed(b"0123456789abcdef\n", 0), 16);
        assert_eq!(line_feed(b"0123456789abcdef0123\n", 3), 20);
        let lf = |_: usize, _: u8| true;
        assert_eq!(both(b"0123456789abcdef0123\n", 3, LINE_FEED, lf), 20);
        let quote = |_: usize, c: u8| c == b'"' || c == b'\\';
        assert_eq!(both(b"abcdefghijklmnopq\\rs\"", 0, STRING_END, quote), 17);
    }

    #[test]
    fn finds_every_byte_at_every_offset() {
        for len in 1..40 {
            for at in 0..len {
                for c in [b' ', b'\n', b'\r', b',', b'=', b'\\', 0, 0x1F] {
                    let mut v = vec![b'a'; len];
                    v[at] = c;
                    assert_eq!(name_stop(&v, 0), at, "{len} {at} {c}");
                    assert_eq!(name_stop(&v, at + 1), len);
                }
            }
        }
    }

    #[test]
    fn high_bytes_are_never_below_a_limit() {
        let v: Vec<u8> = (0x80..=0xFF).chain(*b"!").collect();
        assert_eq!(name_stop(&v, 0), v.len());
        let v: Vec<u8> = (0x21..=0xFF).chain(*b" ").collect();
        assert_eq!(
            both(
                &v,
                0,
                Stops {
                    below: b'!',
                    any: b""
                },
                |_, _| true
            ),
            v.len() - 1
        );
    }

    #[test]
    fn accept_skips_bytes_it_refuses() {
        let b = b"a!b\tc d\"e";
        let quote = |_: usize, c: u8| c == b'"';
        assert_eq!(
            both(
                b,
                0,
                Stops {
                    below: b'#',
                    any: b""
                },
                quote
            ),
            7
        );
        assert_eq!(
            both(
                b,
                0,
                Stops {
                    below: b'#',
                    any: b""
                },
                |_, c| c == b'x'
            ),
            b.len()
        );
    }

    #[test]
    fn exact_marks_mark_only_the_set() {
        let b = b"k=v,k2=v2\\,x=yyyyyyyyyyyyyyyyy,z";
        let expected: Vec<usize> = b
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, b'=' | b','))
            .map(|(i, _)| i)
            .collect();
        let mut found = Vec::new();
        let mut base = 0;
        while let Some(mut m) = exact_marks(b, base, b"=,") {
            while m != 0 {
                found.push(base + first_mark(m));
                m &= m - 1;
            }
            base += SPAN;
        }
        assert_eq!(found, expected);
        // The eight-byte marks, as builds without SIMD use them.
        let mut found = Vec::new();
        let mut base = 0;
        while let Some(w) = swar::word(b, base) {
            let mut m = swar::eq_exact(w, b'=') | swar::eq_exact(w, b',');
            while m != 0 {
                found.push(base + (m.trailing_zeros() / 8) as usize);
                m &= m - 1;
            }
            base += 8;
        }
        assert_eq!(found, expected);
    }
}
