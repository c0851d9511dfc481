//! The field types of a request: InfluxDB gives each field of a measurement one type, so
//! a point whose field has another type than the same field of an earlier point of the
//! request is one the store drops (`tsdb/shard.go` `validateSeriesAndFields`: "field
//! type conflict: input field … is type …, already exists as type …"; while both points'
//! fields are new to the store, 1.x fails the whole request). The canonicaliser drops it
//! too and reports it, so the client hears of it in the answer, not after a 204.
//!
//! Measurement and field keys are compared as written (two spellings of one key are two
//! keys here). A point with the same measurement and field shape ([`crate::scan::shape`])
//! as the one before it is not looked at again.

use crate::error::{ErrorKind, Name};
use crate::scan::value::FieldType;
use crate::scan::{Sections, fields};
use std::collections::HashMap;

/// The field types seen so far in one request.
#[derive(Debug, Default)]
pub(super) struct Schema {
    /// Type by [`field_id`] (measurement and field key).
    types: HashMap<Vec<u8>, FieldType>,
    /// The measurement and shape of the last point checked, once there is one.
    last_measurement: Vec<u8>,
    last_shape: Option<u64>,
    /// Scratch: one field's id.
    id: Vec<u8>,
    /// Scratch: the ids and types of the new fields of the point being checked.
    new: Vec<(Vec<u8>, FieldType)>,
}

impl Schema {
    /// Checks the point `p` (scanned from `input`, starting at `start`) against the
    /// points kept before it, and records its fields' types when it is kept.
    pub(super) fn check(
        &mut self,
        input: &[u8],
        start: usize,
        p: &Sections,
    ) -> Result<(), ErrorKind> {
        let measurement = input.get(start..p.measurement_end).unwrap_or_default();
        if self.last_shape == Some(p.shape) && self.last_measurement == measurement {
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
            field_id(id, measurement, key);
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
        self.last_shape = Some(p.shape);
        Ok(())
    }
}

/// Writes into `out` the id of field `key` of `measurement`: the measurement's length
/// (4 bytes, little-endian), the measurement and the key.
fn field_id(out: &mut Vec<u8>, measurement: &[u8], key: &[u8]) {
    out.clear();
    let len = u32::try_from(measurement.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(measurement);
    out.extend_from_slice(key);
}
