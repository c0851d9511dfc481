//! [`Refusing`]: whether the buffer is turning writes away right now (full, or Redis out
//! of reach), so `/health` can tell a load balancer to send them elsewhere instead of
//! reporting `pass` while every write gets `503`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long after the last refusal, with no write accepted since, the gateway still
/// counts as refusing writes. A load balancer that stopped sending writes because of it
/// tries again after this long, and the next write tells.
pub const REFUSING_FOR: Duration = Duration::from_secs(5);

/// The last time the buffer refused a write and why, until a write is accepted.
#[derive(Debug, Default)]
pub struct Refusing {
    /// Whether `last` holds a refusal (read without the lock on every accepted write).
    set: AtomicBool,
    last: Mutex<Option<(Instant, String)>>,
}

impl Refusing {
    /// The buffer refused a write because of `reason`.
    pub fn refused(&self, reason: &str) {
        *self.lock() = Some((Instant::now(), reason.to_owned()));
        self.set.store(true, Ordering::Release);
    }

    /// The buffer took a write: it is not refusing any more.
    pub fn accepted(&self) {
        // A load first: accepted writes do not write the shared flag while it is clear.
        if self.set.load(Ordering::Acquire) && self.set.swap(false, Ordering::AcqRel) {
            *self.lock() = None;
        }
    }

    /// Why writes are refused, if one was within [`REFUSING_FOR`] and none was accepted
    /// since.
    pub fn reason(&self) -> Option<String> {
        if !self.set.load(Ordering::Acquire) {
            return None;
        }
        self.lock()
            .as_ref()
            .filter(|(at, _)| at.elapsed() < REFUSING_FOR)
            .map(|(_, reason)| reason.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, String)>> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_lasts_until_a_write_is_accepted() {
        let r = Refusing::default();
        assert_eq!(r.reason(), None);
        r.refused("buffer full");
        assert_eq!(r.reason().as_deref(), Some("buffer full"));
        r.accepted();
        assert_eq!(r.reason(), None);
    }
}
