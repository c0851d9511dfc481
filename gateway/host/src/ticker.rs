//! The epoch ticker: one thread per engine that advances wasmtime's epoch every
//! [`TICK`], which is what makes a running plugin notice its deadline (epoch
//! interruption costs a load and compare per loop back-edge, far less than fuel).

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the epoch advances: the resolution of plugin timeouts.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Epoch ticks to allow for `timeout`: rounded up, plus one because the first tick may
/// come right after the deadline is set.
pub(crate) fn ticks_for(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(TICK.as_nanos());
    u64::try_from(ticks)
        .unwrap_or(u64::MAX)
        .clamp(1, u64::MAX - 1)
        + 1
}

/// The running ticker; dropping it stops and joins the thread.
#[derive(Debug)]
pub(crate) struct Ticker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts ticking `engine`'s epoch.
    pub(crate) fn start(engine: wasmtime::Engine) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sluice-epoch".into())
            .spawn(move || {
                // Stops on a message or when the sender is dropped.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_add_one() {
        assert_eq!(ticks_for(Duration::from_secs(1)), 101);
        assert_eq!(ticks_for(Duration::from_millis(15)), 3);
        assert_eq!(ticks_for(Duration::ZERO), 2);
        assert_eq!(ticks_for(Duration::MAX), u64::MAX);
    }
}
