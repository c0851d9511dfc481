//! Coalescing: consecutive buffer records with the same destination become one write
//! request, up to the output's points and bytes limits.

use crate::batch::{Batch, Context};
use sluice_buffer::EntryId;

/// One write request's worth of records.
#[derive(Debug)]
pub struct Request {
    /// Destination.
    pub context: Context,
    /// The lines of each record, in order (concatenated on the wire).
    pub parts: Vec<Batch>,
    /// Total points.
    pub points: usize,
    /// Total line bytes.
    pub bytes: usize,
    /// The buffer entries it holds: acknowledge them once the request is done.
    pub ids: Vec<EntryId>,
}

/// Groups decoded records into requests. Records are never reordered.
pub fn coalesce(
    records: impl IntoIterator<Item = (EntryId, Batch)>,
    max_points: usize,
    max_bytes: usize,
) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::new();
    for (id, batch) in records {
        let (points, bytes) = (batch.points(), batch.lines().len());
        if let Some(last) = out.last_mut()
            && last.context == *batch.context()
            && last.points + points <= max_points
            && last.bytes + bytes <= max_bytes
        {
            last.points += points;
            last.bytes += bytes;
            last.ids.push(id);
            last.parts.push(batch);
            continue;
        }
        out.push(Request {
            context: batch.context().clone(),
            points,
            bytes,
            ids: vec![id],
            parts: vec![batch],
        });
    }
    out
}
