//! [`ReloadReport`]: what one reload did, as `POST /admin/reload` answers it and
//! `/health` shows the last one.

use super::{Changes, Trigger};
use std::time::{Duration, SystemTime};

/// The outcome of one reload.
#[derive(Debug, Clone)]
pub struct ReloadReport {
    trigger: Trigger,
    at: SystemTime,
    elapsed: Duration,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Outcome {
    Applied { generation: u64, changes: Changes },
    Failed { stage: &'static str, error: String },
}

impl ReloadReport {
    /// A reload that applied `changes`; `generation` is the chain now serving.
    pub fn applied(trigger: Trigger, generation: u64, changes: Changes, elapsed: Duration) -> Self {
        Self {
            trigger,
            at: SystemTime::now(),
            elapsed,
            outcome: Outcome::Applied {
                generation,
                changes,
            },
        }
    }

    /// A reload refused at `stage` (`config`, `load`, `canary`) because of `error`.
    pub fn failed(trigger: Trigger, stage: &'static str, error: String, elapsed: Duration) -> Self {
        Self {
            trigger,
            at: SystemTime::now(),
            elapsed,
            outcome: Outcome::Failed { stage, error },
        }
    }

    /// Whether it applied.
    pub fn is_applied(&self) -> bool {
        matches!(self.outcome, Outcome::Applied { .. })
    }

    /// `{"result": "applied", "trigger": "admin", "at": "…", "elapsed_ms": 12,
    /// "generation": 4, "applied": ["plugins"], "restart_needed": []}` or `{"result":
    /// "failed", "trigger": …, "stage": "load", "error": "…"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "trigger": self.trigger.as_str(),
            "at": humantime::format_rfc3339_millis(self.at).to_string(),
            "elapsed_ms": u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        });
        let fields = match &self.outcome {
            Outcome::Applied {
                generation,
                changes,
            } => serde_json::json!({
                "result": "applied",
                "generation": generation,
                "applied": changes.applied,
                "restart_needed": changes.restart_needed,
            }),
            Outcome::Failed { stage, error } => serde_json::json!({
                "result": "failed",
                "stage": stage,
                "error": error,
            }),
        };
        if let (Some(json), serde_json::Value::Object(fields)) = (json.as_object_mut(), fields) {
            json.extend(fields);
        }
        json
    }
}
