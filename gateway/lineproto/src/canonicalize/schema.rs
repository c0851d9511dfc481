//! The field types of a request: InfluxDB gives each field of a measurement one type per
//! shard, so when two points of a request that land in one shard give a field two types,
//! the store drops one of them (`tsdb/shard.go` `validateSeriesAndFields`: "field type
//! conflict: input field … is type …, already exists as type …"). influxd answers such a
//! request 400 whatever the field's stored type, so the canonicaliser reports it and the
//! client hears of it in the answer, not after a 204.
//!
//! Which point the store drops depends on the type it already holds, which the gateway
//! cannot know (the first point's type wins only for a field new to the shard), so the
//! point is reported and kept: the store keeps and drops exactly what it would have for
//! the same request written to it directly.
//!
//! Shards are aligned windows of their retention policy's shard group duration, a whole
//! number of hours (7 days by default): two points are compared only when they fall in
//! the same hour, which is then always one shard. Measurement and field keys are compared
//! as written (two spellings of one key are two keys here). A point with the same
//! measurement, field shape ([`crate::scan::shape`]) and hour as the one before it is not
//! looked at again.

use crate::error::{ErrorKind, Name};
use crate::scan::value::FieldType;
use crate::scan::{Sections, fields};
use std::collections::HashMap;

/// Nanoseconds in an hour: the finest shard group duration, and a divisor of all others
/// InfluxDB 1.x picks (1 hour, 1 day, 7 days).
const HOUR_NS: i64 = 3_600_000_000_000;

/// The field types seen so far in one request.
#[derive(Debug, Default)]
pub(super) struct Schema {
    /// Type by [`field_id`] (hour, measurement and field key).
    types: HashMap<Vec<u8>, FieldType>,
    /// The measurement, shape and hour of the last point checked, once there is one.
    last_measurement: Vec<u8>,
    last_shape: Option<(u64, i64)>,
    /// The hour of the last point checked and its first nanosecond (an hour's worth of
    /// timestamps is told apart without a division).
    hour: (i64, i64),
    /// Scratch: one field's id.
    id: Vec<u8>,
    /// Scratch: the ids and types of the new fields of the point being checked.
    new: Vec<(Vec<u8>, FieldType)>,
}

impl Schema {
    /// Checks the point `p` (scanned from `input`, starting at `start`, at `timestamp`
    /// nanoseconds) against the points before it, and records its fields' types when
    /// none conflicts.
    pub(super) fn check(
        &mut self,
        input: &[u8],
        start: usize,
        p: &Sections,
        timestamp: i64,
    ) -> Result<(), ErrorKind> {
        let measurement = input.get(start..p.measurement_end).unwrap_or_default();
        let (mut hour, hour_start) = self.hour;
        if timestamp < hour_start || timestamp.wrapping_sub(hour_start) as u64 >= HOUR_NS as u64 {
            hour = timestamp.div_euclid(HOUR_NS);
            self.hour = (hour, hour.saturating_mul(HOUR_NS));
        }
        if self.last_shape == Some((p.shape, hour)) && self.last_measurement == measurement {
            return Ok(());
        }
        let set = input.get(p.fields_start..p.fields_end).unwrap_or_default();
        let mut conflict = None;
        self.new.clear();
        let (types, id, new) = (&self.types, &mut self.id, &mut self.new);
        let _ = fields::walk(set, |key, value| {
            let key = set.get(key).unwrap_or_default();
            let Some(ty) = set.get(value).and_then(FieldType::of) else {
                return true;
            };
            if key == b"time" {
                // The store skips fields named `time`.
                return true;
            }
            field_id(id, hour, measurement, key);
            match types.get(id.as_slice()) {
                Some(&existing) if existing != ty => {
                    conflict = Some(ErrorKind::FieldTypeConflictInRequest {
                        field: Name::new(key),
                        measurement: Name::new(measurement),
                        input: ty,
                        existing,
                    });
                    false
                }
                Some(_) => true,
                None => {
                    new.push((id.clone(), ty));
                    true
                }
            }
        });
        if let Some(kind) = conflict {
            return Err(kind);
        }
        // A field new in this point is first seen here (a point with one key twice and
        // two types was refused by the scan already).
        self.types.extend(self.new.drain(..));
        self.last_measurement.clear();
        self.last_measurement.extend_from_slice(measurement);
        self.last_shape = Some((p.shape, hour));
        Ok(())
    }
}

/// Writes into `out` the id of field `key` of `measurement` in `hour`: the hour (8 bytes,
/// little-endian), the measurement's length (4 bytes, little-endian), the measurement and
/// the key.
fn field_id(out: &mut Vec<u8>, hour: i64, measurement: &[u8], key: &[u8]) {
    out.clear();
    out.extend_from_slice(&hour.to_le_bytes());
    let len = u32::try_from(measurement.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(measurement);
    out.extend_from_slice(key);
}
