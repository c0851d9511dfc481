//! Timestamp precision of a write.

/// The unit of the timestamps in a write request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Nanoseconds (the default).
    Nanosecond,
    /// Microseconds.
    Microsecond,
    /// Milliseconds.
    Millisecond,
    /// Seconds.
    Second,
    /// Minutes (1.x only).
    Minute,
    /// Hours (1.x only).
    Hour,
}

impl Precision {
    /// InfluxDB 1.x `precision=` spellings: "" (ns), `n`, `ns`, `u`, `us`, `µ`, `ms`, `s`, `m`, `h`.
    pub fn from_v1(s: &str) -> Option<Self> {
        match s {
            "" | "n" | "ns" => Some(Self::Nanosecond),
            "u" | "us" | "µ" => Some(Self::Microsecond),
            "ms" => Some(Self::Millisecond),
            "s" => Some(Self::Second),
            "m" => Some(Self::Minute),
            "h" => Some(Self::Hour),
            _ => None,
        }
    }

    /// InfluxDB 2.x `precision=` spellings: "" (ns), `ns`, `us`, `ms`, `s`.
    pub fn from_v2(s: &str) -> Option<Self> {
        match s {
            "" | "ns" => Some(Self::Nanosecond),
            "us" => Some(Self::Microsecond),
            "ms" => Some(Self::Millisecond),
            "s" => Some(Self::Second),
            _ => None,
        }
    }

    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            Self::Nanosecond => 1,
            Self::Microsecond => 1_000,
            Self::Millisecond => 1_000_000,
            Self::Second => 1_000_000_000,
            Self::Minute => 60_000_000_000,
            Self::Hour => 3_600_000_000_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Precision::{self, *};

    #[test]
    fn reads_v1_spellings() {
        for (s, p) in [
            ("", Nanosecond),
            ("n", Nanosecond),
            ("ns", Nanosecond),
            ("u", Microsecond),
            ("us", Microsecond),
            ("µ", Microsecond),
            ("ms", Millisecond),
            ("s", Second),
            ("m", Minute),
            ("h", Hour),
        ] {
            assert_eq!(Precision::from_v1(s), Some(p), "{s:?}");
        }
        for s in ["x", "S", "sec", "NS", " s", "µs"] {
            assert_eq!(Precision::from_v1(s), None, "{s:?}");
        }
    }

    #[test]
    fn reads_v2_spellings() {
        for (s, p) in [
            ("", Nanosecond),
            ("ns", Nanosecond),
            ("us", Microsecond),
            ("ms", Millisecond),
            ("s", Second),
        ] {
            assert_eq!(Precision::from_v2(s), Some(p), "{s:?}");
        }
        for s in ["n", "u", "µ", "m", "h", "x"] {
            assert_eq!(Precision::from_v2(s), None, "{s:?}");
        }
    }

    #[test]
    fn multiplies_to_nanoseconds() {
        let nanos: Vec<i64> = [Nanosecond, Microsecond, Millisecond, Second, Minute, Hour]
            .iter()
            .map(|p| p.nanos())
            .collect();
        assert_eq!(
            nanos,
            [
                1,
                1_000,
                1_000_000,
                1_000_000_000,
                60_000_000_000,
                3_600_000_000_000
            ]
        );
    }
}
