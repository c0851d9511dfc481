//! [`Restarts`]: how often a plugin's instances fault, and the backoff that keeps a plugin
//! which traps on every batch (or whose `init` always traps) from turning instance
//! re-creation into a loop that burns CPU.
//!
//! The rule, in the manner of Kubernetes' `CrashLoopBackOff`: after a fault (trap,
//! timeout, memory limit, or a failed start) the next call starts a fresh instance at
//! once, so one poison batch costs one restart. From the [`FREE_RESTARTS`]th fault in a
//! row on, no new instance is started for a backoff that doubles from
//! [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`]; calls in that time fail fast with
//! [`HostError::Backoff`](crate::HostError::Backoff), which is retryable (HTTP clients get
//! 503 and resend). Any call that returns without a fault resets the count.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::HostError;

/// Faults in a row that restart at once, without backoff.
pub const FREE_RESTARTS: u32 = 3;
/// The first backoff, after [`FREE_RESTARTS`] faults in a row.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A plugin's fault record, shared by all its instances.
#[derive(Debug, Default)]
pub(crate) struct Restarts {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Faults since the last call that returned without one.
    consecutive: u32,
    /// Faults since the plugin was loaded.
    total: u64,
    /// No instance starts before this.
    not_before: Option<Instant>,
    /// The last fault, for `/health`.
    last: Option<String>,
}

/// A plugin's faults and backoff as [`Plugin::restarts`](crate::Plugin::restarts) reports
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestartStatus {
    /// Faults (traps, timeouts, memory limits, failed starts) since the plugin was loaded.
    pub faults: u64,
    /// Faults in a row, since the last call that returned without one.
    pub consecutive: u32,
    /// Time left before a new instance may start; `None` when not backing off.
    pub backoff: Option<Duration>,
    /// The last fault's message.
    pub last_fault: Option<String>,
}

impl Restarts {
    /// `Err(HostError::Backoff)` while a new instance must not start yet.
    pub(crate) fn check(&self, plugin: &str) -> Result<(), HostError> {
        let state = self.lock();
        match state.not_before {
            Some(at) if at > Instant::now() => Err(HostError::Backoff {
                plugin: plugin.to_owned(),
                retry_in: at.saturating_duration_since(Instant::now()),
                faults: state.consecutive,
                last_fault: state.last.clone().unwrap_or_default(),
            }),
            _ => Ok(()),
        }
    }

    /// Records a fault that discarded (or failed to start) an instance.
    pub(crate) fn fault(&self, error: &HostError) {
        let mut state = self.lock();
        state.consecutive = state.consecutive.saturating_add(1);
        state.total += 1;
        state.last = Some(error.to_string());
        state.not_before = backoff(state.consecutive).map(|wait| Instant::now() + wait);
        if state.consecutive == FREE_RESTARTS {
            tracing::warn!(plugin = error.plugin().unwrap_or(""), faults = state.consecutive, error = %error,
                "plugin keeps faulting: new instances start with backoff");
        }
    }

    /// Records a call that returned without a fault.
    pub(crate) fn success(&self) {
        let mut state = self.lock();
        if state.consecutive != 0 {
            state.consecutive = 0;
            state.not_before = None;
        }
    }

    /// The current record.
    pub(crate) fn status(&self) -> RestartStatus {
        let state = self.lock();
        let now = Instant::now();
        RestartStatus {
            faults: state.total,
            consecutive: state.consecutive,
            backoff: state
                .not_before
                .filter(|at| *at > now)
                .map(|at| at.saturating_duration_since(now)),
            last_fault: state.last.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The wait before the next start after `consecutive` faults in a row.
fn backoff(consecutive: u32) -> Option<Duration> {
    let doublings = consecutive.checked_sub(FREE_RESTARTS)?;
    let wait = FIRST_BACKOFF.saturating_mul(1u32 << doublings.min(16));
    Some(wait.min(MAX_BACKOFF))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap() -> HostError {
        HostError::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
            stderr: String::new(),
            backtrace: String::new(),
        }
    }

    #[test]
    fn backoff_starts_after_the_free_restarts_and_doubles_to_the_cap() {
        assert_eq!(backoff(1), None);
        assert_eq!(backoff(FREE_RESTARTS - 1), None);
        assert_eq!(backoff(FREE_RESTARTS), Some(FIRST_BACKOFF));
        assert_eq!(backoff(FREE_RESTARTS + 1), Some(FIRST_BACKOFF * 2));
        assert_eq!(backoff(FREE_RESTARTS + 30), Some(MAX_BACKOFF));
        assert_eq!(backoff(u32::MAX), Some(MAX_BACKOFF));
    }

    #[test]
    fn a_poison_batch_restarts_at_once_a_fault_loop_backs_off_and_success_resets() {
        let restarts = Restarts::default();
        restarts.fault(&trap());
        assert!(restarts.check("p").is_ok(), "one fault: restart at once");
        for _ in 1..FREE_RESTARTS {
            restarts.fault(&trap());
        }
        let Err(HostError::Backoff { faults, .. }) = restarts.check("p") else {
            panic!("expected a backoff after {FREE_RESTARTS} faults in a row");
        };
        assert_eq!(faults, FREE_RESTARTS);
        let status = restarts.status();
        assert_eq!(status.faults, u64::from(FREE_RESTARTS));
        assert!(status.backoff.is_some_and(|b| b <= FIRST_BACKOFF));
        assert!(status.last_fault.is_some_and(|m| m.contains("unreachable")));
        restarts.success();
        assert!(restarts.check("p").is_ok());
        assert_eq!(restarts.status().consecutive, 0);
        assert_eq!(restarts.status().faults, u64::from(FREE_RESTARTS));
    }
}
