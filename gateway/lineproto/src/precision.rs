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
            "u" | "us" | "µ" | "µs" => Some(Self::Microsecond),
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
