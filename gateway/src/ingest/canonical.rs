//! Turns received line protocol into a batch of canonical lines (one point per line,
//! nanosecond timestamps, missing ones set to the receive time), in one pass, written
//! straight into the buffer record.

use crate::batch::{Batch, BatchBuilder, Context};
use sluice_lineproto::{Options, Precision, Summary};
use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses `body` into a batch for `context` under `options`; the summary tells what was
/// dropped and why.
pub fn canonical_batch(
    context: Context,
    body: &[u8],
    precision: Precision,
    options: &Options,
) -> (Batch, Summary) {
    // Canonical lines are at most a timestamp longer than the input lines.
    let mut builder = BatchBuilder::new(context, body.len() + body.len() / 16 + 32);
    let summary = sluice_lineproto::canonicalize_with(
        body,
        precision,
        now_ns(),
        options,
        builder.lines_mut(),
    );
    (builder.finish(summary.points), summary)
}
