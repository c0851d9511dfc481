//! What `/health` reports about each output.

use serde::Serialize;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Live state of one output, updated by its forwarder.
#[derive(Debug)]
pub struct OutputHealth {
    name: String,
    url: String,
    api: &'static str,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Serialize)]
struct State {
    consecutive_failures: u32,
    /// The latest failure, kept after a recovery as history: `last_error_unix_ms` against
    /// `last_success_unix_ms` says whether it is still current.
    last_error: Option<String>,
    last_error_unix_ms: Option<u64>,
    last_success_unix_ms: Option<u64>,
    delivered_points: u64,
    dead_lettered_batches: u64,
}

/// A snapshot for `/health`.
#[derive(Debug, Serialize)]
pub struct OutputReport {
    /// Output name.
    pub name: String,
    /// Store URL.
    pub url: String,
    /// `v1` or `v2`.
    pub api: &'static str,
    /// `ok` (last attempt succeeded or nothing to send yet) or `retrying`.
    pub state: &'static str,
    #[serde(flatten)]
    state_detail: State,
}

impl OutputHealth {
    /// A healthy, idle output.
    pub fn new(name: &str, url: &str, api: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            url: url.to_owned(),
            api,
            state: Mutex::new(State::default()),
        }
    }

    /// Output name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        // A poisoned lock only means a panic elsewhere; the counters are still usable.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state);
    }

    /// A request was delivered.
    pub fn delivered(&self, points: usize) {
        let now = now_unix_ms();
        self.update(|s| {
            s.consecutive_failures = 0;
            s.last_success_unix_ms = now;
            s.delivered_points += points as u64;
        });
    }

    /// An attempt failed and will be retried.
    pub fn failed(&self, error: &str) {
        let now = now_unix_ms();
        self.update(|s| {
            s.consecutive_failures += 1;
            s.last_error = Some(error.to_owned());
            s.last_error_unix_ms = now;
        });
    }

    /// A request was rejected by the store and dead-lettered.
    pub fn dead_lettered(&self, error: &str) {
        let now = now_unix_ms();
        self.update(|s| {
            s.consecutive_failures = 0;
            s.dead_lettered_batches += 1;
            s.last_error = Some(error.to_owned());
            s.last_error_unix_ms = now;
        });
    }

    /// Current state.
    pub fn report(&self) -> OutputReport {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        OutputReport {
            name: self.name.clone(),
            url: self.url.clone(),
            api: self.api,
            state: if state.consecutive_failures > 0 {
                "retrying"
            } else {
                "ok"
            },
            state_detail: state,
        }
    }
}

/// Wall clock, Unix milliseconds.
fn now_unix_ms() -> Option<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}
