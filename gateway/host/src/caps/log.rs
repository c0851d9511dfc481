//! The `log` capability and the plugin's captured stdout/stderr: both end in the
//! gateway's `tracing` log, tagged with the plugin's name, and both are bounded per call
//! so a plugin that logs per point cannot flood the log.

use crate::error::truncate_head;

/// Messages kept per call; the rest are counted and reported once.
const MAX_MESSAGES_PER_CALL: u32 = 100;

/// Severity of a plugin's log message (the WIT `log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Per-call log budget of one instance.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    used: u32,
    suppressed: u32,
}

impl LogBudget {
    /// Logs `message` for `plugin` if this call's budget allows.
    pub(crate) fn log(&mut self, plugin: &str, level: Level, message: &str) {
        if self.used >= MAX_MESSAGES_PER_CALL {
            self.suppressed += 1;
            return;
        }
        self.used += 1;
        let message = truncate_head(message);
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    /// Ends a call: reports suppressed messages and resets the budget.
    pub(crate) fn finish_call(&mut self, plugin: &str) {
        if self.suppressed > 0 {
            tracing::warn!(
                plugin,
                suppressed = self.suppressed,
                "plugin logged more than {MAX_MESSAGES_PER_CALL} messages in one call; the rest were dropped"
            );
        }
        *self = Self::default();
    }
}

/// Forwards what a plugin wrote to stdout or stderr during a call, one event per line
/// (at most [`MAX_MESSAGES_PER_CALL`] lines).
pub(crate) fn forward_output(plugin: &str, stream: &'static str, text: &str) {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    for line in lines.by_ref().take(MAX_MESSAGES_PER_CALL as usize) {
        if stream == "stderr" {
            tracing::warn!(plugin, stream, "{line}");
        } else {
            tracing::info!(plugin, stream, "{line}");
        }
    }
    let rest = lines.count();
    if rest > 0 {
        tracing::warn!(
            plugin,
            stream,
            dropped = rest,
            "plugin wrote too many lines in one call; the rest were dropped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_resets_each_call() {
        let mut budget = LogBudget::default();
        for _ in 0..MAX_MESSAGES_PER_CALL + 5 {
            budget.log("p", Level::Info, "m");
        }
        assert_eq!((budget.used, budget.suppressed), (MAX_MESSAGES_PER_CALL, 5));
        budget.finish_call("p");
        assert_eq!((budget.used, budget.suppressed), (0, 0));
    }
}
