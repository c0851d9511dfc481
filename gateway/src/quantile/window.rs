//! Windows aligned to wall-clock boundaries: a point with timestamp `t` (Unix
//! nanoseconds) belongs to the window `[floor(t / len) * len, … + len)`, so every node
//! that uses the same window length puts the same instants in the same window, whatever
//! its clock did when it started.

use std::time::Duration;

/// One window: `start` (Unix nanoseconds, a multiple of `len`) and `len` (nanoseconds,
/// more than zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// First instant in the window, Unix nanoseconds.
    pub start: i64,
    /// Length in nanoseconds.
    pub len: i64,
}

impl Window {
    /// The window of length `len` (nanoseconds, more than zero) that holds `timestamp`
    /// (Unix nanoseconds; before 1970 too).
    pub fn containing(timestamp: i64, len: i64) -> Self {
        let len = len.max(1);
        Self {
            start: timestamp.div_euclid(len) * len,
            len,
        }
    }

    /// The first instant after the window, Unix nanoseconds.
    pub fn end(&self) -> i64 {
        self.start.saturating_add(self.len)
    }
}

/// Nanoseconds of a duration, saturating at `i64::MAX`.
pub fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Now, Unix nanoseconds (0 if the clock is before 1970).
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, nanos)
}

/// A window length as written in the `sluice_window` tag: the largest whole unit,
/// `2s`, `15s`, `1m`, `1500ms`, `1h`.
pub fn format_len(len: i64) -> String {
    const UNITS: [(i64, &str); 5] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    for (unit, name) in UNITS {
        if len % unit == 0 {
            return format!("{}{name}", len / unit);
        }
    }
    format!("{len}ns")
}

/// Reads a `sluice_window` tag value (`2s`, `1m`, … as [`format_len`] writes, or any
/// human duration); `None` unless it is more than zero.
pub fn parse_len(text: &str) -> Option<i64> {
    humantime::parse_duration(text)
        .ok()
        .map(nanos)
        .filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn windows_align_to_multiples_of_their_length() {
        let w = Window::containing(1_700_000_001_234_567_890, 2 * S);
        assert_eq!(w.start, 1_700_000_000 * S);
        assert_eq!(w.end(), 1_700_000_002 * S);
        // The last nanosecond is in, the end is the next window's start.
        assert_eq!(Window::containing(w.end() - 1, 2 * S), w);
        assert_eq!(Window::containing(w.end(), 2 * S).start, w.end());
        // Two nodes that see different instants of the same window agree on it.
        assert_eq!(
            Window::containing(1_700_000_000 * S, 2 * S),
            Window::containing(1_700_000_001 * S + 999_999_999, 2 * S)
        );
    }

    #[test]
    fn windows_before_the_epoch_round_down() {
        let w = Window::containing(-1, 10 * S);
        assert_eq!((w.start, w.end()), (-10 * S, 0));
    }

    #[test]
    fn window_lengths_round_trip_through_the_tag() {
        for (len, text) in [
            (2 * S, "2s"),
            (15 * S, "15s"),
            (60 * S, "1m"),
            (3600 * S, "1h"),
            (1_500_000_000, "1500ms"),
            (7, "7ns"),
        ] {
            assert_eq!(format_len(len), text);
            assert_eq!(parse_len(text), Some(len), "{text}");
        }
        assert_eq!(parse_len("0s"), None);
        assert_eq!(parse_len("soon"), None);
    }
}
