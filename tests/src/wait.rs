//! [`wait_until`]: the one way tests wait — poll a condition, bounded in time.

use std::time::{Duration, Instant};

/// How long tests wait for something that should happen soon (delivery after a restart,
/// a process coming up) on a loaded 2-core machine. A bound, not a speed assertion.
pub const LONG: Duration = Duration::from_secs(60);

/// Pause between two polls.
const POLL: Duration = Duration::from_millis(100);

/// Calls `check` until it returns `Some`, at most until `timeout` has passed; returns the
/// value, or `None` when time ran out. `check` is always called at least once.
pub fn wait_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_value() {
        let mut calls = 0;
        let got = wait_until(Duration::from_secs(5), || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(got, Some(3));
    }

    #[test]
    fn gives_up_after_the_timeout() {
        assert_eq!(wait_until(Duration::ZERO, || None::<()>), None);
    }
}
