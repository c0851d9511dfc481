//! What the gateway tells its operator: Prometheus metrics, structured logs, and the
//! events that feed both (Vector's internal events: one struct per occurrence whose
//! `emit()` logs and counts, so logs and metrics never drift apart).

pub mod events;
mod logging;
mod metrics;
pub mod stage;

pub use logging::init_logging;
pub(crate) use metrics::{GroupLabels, StreamLabels};
pub use metrics::{Metrics, OutputLabels, RequestLabels};
