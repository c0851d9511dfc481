//! Exponential backoff with jitter for output retries, honouring a store's `Retry-After`.

use std::time::Duration;

/// Delays between attempts at one request: `initial · 2^n`, capped at `max`, each drawn
/// uniformly from its upper half so many gateways do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial: initial.max(Duration::from_millis(1)),
            max: max.max(initial),
            failures: 0,
        }
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the next attempt. A store's
    /// `Retry-After` is a floor: we never come back sooner than it asked.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let exp = self.failures.min(30);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self
            .initial
            .saturating_mul(1u32 << exp.min(20))
            .min(self.max);
        let half = ceiling / 2;
        let jitter = half.mul_f64(rand::random::<f64>());
        let delay = half + jitter;
        match retry_after {
            Some(floor) => delay.max(floor),
            None => delay,
        }
    }

    /// Forgets past failures after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Parses a `Retry-After` header given in seconds (the form InfluxDB and proxies send).
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_bounds() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let expected_ceilings = [100, 200, 400, 800, 1600, 2000, 2000];
        for ceiling in expected_ceilings {
            let d = b.next_delay(None).as_millis() as u64;
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "{d} not in [{}, {ceiling}]",
                ceiling / 2
            );
        }
        assert_eq!(b.failures(), 7);
        b.reset();
        assert!(b.next_delay(None) <= Duration::from_millis(100));
    }

    #[test]
    fn retry_after_is_a_floor() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        assert!(b.next_delay(Some(Duration::from_secs(5))) >= Duration::from_secs(5));
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(b.next_delay(None) <= Duration::from_secs(60));
        }
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
