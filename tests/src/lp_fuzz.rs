//! [`fuzz_lines`]: deterministic, hostile line protocol for differential tests against
//! InfluxDB 1.x. Every line starts with a measurement prefix unique to it (`m<n>_`), so
//! that no two lines store into the same series, and most end with a timestamp; between
//! the two, every part is built from pieces that stress 1.x's parser: escapes and runs of
//! backslashes at every position of measurement, tag keys and values, field keys and
//! string values; quotes, `=`, `#`, `,`, spaces, tabs and NULs; duplicate keys, `time`
//! keys; numbers at the `i64` edges, `u` integers, every boolean spelling and near
//! misses. A [`XorShift`] seeded by the caller picks the pieces, so a seed always gives
//! the same lines.

/// A xorshift64* generator: small, fast, reproducible (not for anything secret).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is replaced: xorshift would stay at 0).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n.max(1) as u64).unwrap_or(0)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Plain pieces of names.
const PLAIN: &[&str] = &["a", "b", "cpu", "host", "x1", "é", "_", "-", ".", "T", "f"];

/// Pieces of names that 1.x treats specially somewhere (escapes and runs of backslashes
/// before separators, bare separators, quotes, comment signs, whitespace).
const SPECIAL: &[&str] = &[
    "\\", "\\\\", "\\\\\\", "\\ ", "\\\\ ", "\\\\\\ ", "\\,", "\\\\,", "\\=", "\\\\=", "\\\"",
    "\\\\\"", "\"", "=", "==", "#", ",", " ", "'", "\t", "\0", "\\t", "\\n", "\\\n", "time",
];

/// Field values 1.x stores: numbers at the edges, floats, every boolean spelling.
const GOOD_VALUES: &[&str] = &[
    "0i",
    "-1i",
    "9223372036854775807i",
    "-9223372036854775808i",
    "-0009223372036854775808i",
    "1.5",
    ".5",
    "5.",
    "1e9",
    "1E-9",
    "1e-400",
    "1.7976931348623157e308",
    "-9223372036854775808",
    "99999999999999999999999999",
    "t",
    "T",
    "true",
    "True",
    "TRUE",
    "f",
    "F",
    "false",
    "False",
    "FALSE",
];

/// Field values: numbers at the edges, `u` integers, floats, booleans and near misses.
const VALUES: &[&str] = &[
    "0i",
    "1i",
    "-1i",
    "9223372036854775807i",
    "-9223372036854775808i",
    "9223372036854775808i",
    "-9223372036854775809i",
    "00000000000000000009223372036854775807i",
    "-0009223372036854775808i",
    "99999999999999999999999i",
    "1ii",
    "1i5",
    "-i",
    "+1i",
    "1.5i",
    "1e5i",
    "0u",
    "1u",
    "18446744073709551615u",
    "18446744073709551616u",
    "-1u",
    "1.0u",
    "1",
    "-1",
    "1.5",
    ".5",
    "5.",
    "-.5",
    ".",
    "-",
    "1e9",
    "1E-9",
    "1e+9",
    "1e",
    "1e400",
    "-1e400",
    "1e-400",
    "1.7976931348623157e308",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999999",
    "1.2.3",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    "--1",
    "1e5e5",
    ".e5",
    "-e5",
    "t",
    "T",
    "true",
    "True",
    "TRUE",
    "f",
    "F",
    "false",
    "False",
    "FALSE",
    "tRUE",
    "yes",
    "tru",
    "falsey",
    "",
];

/// Pieces of string field values.
const STRING: &[&str] = &[
    "abc", " ", ",", "=", "\\\"", "\\\\", "\\", "\"", "\n", "\\\n", "#", "é", "\t", "a=b",
];

/// Timestamps other than the line's own: the `i64` and InfluxDB edges, and near misses.
const TIMESTAMPS: &[&str] = &[
    "9223372036854775806",
    "-9223372036854775806",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "-",
    "1.5",
    "0005",
    "-0",
    "+5",
    "5x",
    "5 x",
    "5\t",
];

/// Separators between sections: mostly one space.
const GAPS: &[&str] = &[
    " ", " ", " ", " ", " ", " ", "  ", " \t", "\t ", " \0", "\0",
];

/// `count` lines from `seed`; line `n` starts with the measurement prefix `m<n>_` and
/// (unless it is missing or mangled on purpose) ends with the timestamp `base + n`.
pub fn fuzz_lines(seed: u64, count: usize, base: i64) -> Vec<Vec<u8>> {
    let mut rng = XorShift::new(seed);
    (0..count).map(|n| line(&mut rng, n, base)).collect()
}

/// One line.
fn line(rng: &mut XorShift, n: usize, base: i64) -> Vec<u8> {
    if rng.chance(2) {
        return comment_or_blank(rng);
    }
    let mut s = format!("m{n}_");
    if rng.chance(70) {
        s.push_str(&name(rng));
    }
    let mut keys: Vec<String> = Vec::new();
    for _ in 0..rng.below(4) {
        let key = if !keys.is_empty() && rng.chance(8) {
            rng.pick(&keys).clone()
        } else if rng.chance(3) {
            "time".to_owned()
        } else {
            name(rng)
        };
        let value = if rng.chance(8) {
            format!("={}", name(rng))
        } else {
            name(rng)
        };
        s.push(',');
        s.push_str(&key);
        s.push('=');
        s.push_str(&value);
        keys.push(key);
    }
    s.push_str(rng.pick::<&str>(GAPS));
    let mut fields: Vec<String> = Vec::new();
    for i in 0..1 + rng.below(3) {
        if i > 0 {
            s.push(',');
        }
        let key = if !fields.is_empty() && rng.chance(10) {
            rng.pick(&fields).clone()
        } else if rng.chance(4) {
            "time".to_owned()
        } else {
            name(rng)
        };
        s.push_str(&key);
        s.push('=');
        if rng.chance(35) {
            s.push_str(&string_value(rng));
        } else if rng.chance(60) {
            s.push_str(rng.pick::<&str>(GOOD_VALUES));
        } else {
            s.push_str(rng.pick::<&str>(VALUES));
        }
        fields.push(key);
    }
    match rng.below(100) {
        0..=79 => {
            s.push_str(rng.pick::<&str>(GAPS));
            s.push_str(&(base + i64::try_from(n).unwrap_or(0)).to_string());
        }
        80..=89 => {
            s.push(' ');
            s.push_str(rng.pick::<&str>(TIMESTAMPS));
        }
        _ => {}
    }
    let mut bytes = s.into_bytes();
    if rng.chance(8) {
        // Damage: one more special byte anywhere after the prefix.
        let prefix = format!("m{n}_").len();
        let at = prefix + rng.below(bytes.len().saturating_sub(prefix) + 1);
        let byte = *rng.pick(b"\\\"=, #\t\n");
        bytes.insert(at.min(bytes.len()), byte);
    }
    match rng.below(100) {
        0..=1 => bytes.extend_from_slice(b"\r\n"),
        2..=11 => bytes.push(b'\n'),
        12..=14 => bytes.extend_from_slice(b"  "),
        _ => {}
    }
    bytes
}

/// A name of one to four pieces, mostly plain.
fn name(rng: &mut XorShift) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(4) {
        let pieces = if rng.chance(15) { SPECIAL } else { PLAIN };
        s.push_str(rng.pick::<&str>(pieces));
    }
    s
}

/// A quoted string value, sometimes unclosed or with bytes after its closing quote.
fn string_value(rng: &mut XorShift) -> String {
    let mut s = String::from("\"");
    for _ in 0..rng.below(5) {
        s.push_str(rng.pick::<&str>(STRING));
    }
    match rng.below(100) {
        0..=4 => {}
        5..=9 => s.push_str("\"x"),
        10..=12 => s.push_str("\"\""),
        _ => s.push('"'),
    }
    s
}

/// A comment or a blank line (with a quote in it sometimes: 1.x's line splitter counts
/// quotes in comments too).
fn comment_or_blank(rng: &mut XorShift) -> Vec<u8> {
    rng.pick(&[&b"# a comment"[..], b"# a=b \"x", b"   ", b"\t\n", b"#"])
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_reproducible_and_prefixed() {
        let a = fuzz_lines(7, 200, 1000);
        assert_eq!(a, fuzz_lines(7, 200, 1000));
        assert_ne!(a, fuzz_lines(8, 200, 1000));
        let prefixed = a
            .iter()
            .enumerate()
            .filter(|(n, l)| l.starts_with(format!("m{n}_").as_bytes()));
        assert!(prefixed.count() > 180);
    }

    #[test]
    fn picks_evenly_enough() {
        let mut rng = XorShift::new(1);
        let mut seen = [0usize; 4];
        for _ in 0..4000 {
            seen[rng.below(4)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
