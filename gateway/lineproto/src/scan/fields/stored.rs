//! What 1.x's store checks of a field set before it keeps a point (`tsdb/shard.go`
//! `validateSeriesAndFields`, the tsm1 engine's `WritePoints`): the series key limit per
//! field key (`walkFields` in `models/points.go`), fields named `time` (skipped, the point
//! dropped when nothing else is left), values it cannot read back as their type, and two
//! fields with the same key and different types.

use super::split::{field_key_eq, walk};
use crate::error::{ErrorKind, Quote};
use crate::scan::conflict::{Keys, Scratch};
use crate::scan::value::{self, FieldType};
use crate::scan::{FIELD_KEY_SEPARATOR_LEN, MAX_KEY_LEN, Stop};

/// A value 1.x's engine cannot store: where it is in the input, and whether it is a lone
/// quote (which crashes the engine rather than failing the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unstorable {
    /// The value's start.
    pub(crate) start: usize,
    /// The value's end.
    pub(crate) end: usize,
    /// Whether it is a string one quote long.
    pub(crate) lone_quote: bool,
}

impl Unstorable {
    /// The error for it, quoting the value from `b`.
    #[cold]
    pub(crate) fn kind(&self, b: &[u8]) -> ErrorKind {
        if self.lone_quote {
            return ErrorKind::LoneQuote;
        }
        ErrorKind::UnstorableValue(Quote::new(b.get(self.start..self.end).unwrap_or_default()))
    }
}

/// Fields seen so far, for the store's checks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    /// The key's length, for the series key limit.
    key_len: usize,
    /// The first series key (key, separator, field key) over the limit.
    pub(super) too_long: Option<usize>,
    /// Fields.
    pub(super) total: usize,
    /// Fields named `time` (the store skips them).
    pub(super) time: usize,
    /// The first value the engine cannot store, as split by `walkFields`.
    pub(super) unstorable: Option<Unstorable>,
    /// A 6-bit hash of the keys of the fields but `time` (their length, first and last
    /// bytes), one bit each.
    keys: u64,
    /// Whether two such keys hash the same: only then can two fields conflict, and
    /// [`conflicts`] is asked.
    pub(super) maybe_conflict: bool,
}

impl Seen {
    pub(super) fn new(key_len: usize) -> Self {
        Self {
            key_len,
            too_long: None,
            total: 0,
            time: 0,
            unstorable: None,
            keys: 0,
            maybe_conflict: false,
        }
    }

    /// A field with key `key` (written without escapes).
    #[inline(always)]
    pub(super) fn field(&mut self, key: &[u8]) {
        let series_key = self.key_len + FIELD_KEY_SEPARATOR_LEN + key.len();
        if series_key > MAX_KEY_LEN && self.too_long.is_none() {
            self.too_long = Some(series_key);
        }
        self.total += 1;
        if key == b"time" {
            self.time += 1;
        } else {
            let bit = 1u64 << key_hash(key);
            self.maybe_conflict |= self.keys & bit != 0;
            self.keys |= bit;
        }
    }
}

/// A hash of a key in `0..64`, from its length and its first and last bytes.
#[inline(always)]
fn key_hash(key: &[u8]) -> u32 {
    let first = u64::from(key.first().copied().unwrap_or_default());
    let last = u64::from(key.last().copied().unwrap_or_default());
    let mixed = (key.len() as u64 | first << 16 | last << 24).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 58) as u32
}

/// The store's checks on the field set at `start..end`, split as 1.x stores it
/// (`walkFields`); the fields' keys and types go to `types`.
#[cold]
pub(super) fn walk_checks(
    b: &[u8],
    start: usize,
    end: usize,
    key_len: usize,
) -> Result<Seen, Stop> {
    let fields = b.get(start..end).unwrap_or_default();
    let mut seen = Seen::new(key_len);
    let split = walk(fields, |key, value| {
        let key_at = start + key.start;
        let name = b.get(key_at..key_at + key.len()).unwrap_or_default();
        let range = value.clone();
        let value = fields.get(value).unwrap_or_default();
        let series_key = key_len + FIELD_KEY_SEPARATOR_LEN + name.len();
        if series_key > MAX_KEY_LEN {
            // walkFields stops at the first key over the limit.
            seen.too_long = Some(series_key);
            return false;
        }
        seen.total += 1;
        if field_key_eq(name, b"time") {
            // The store skips fields named `time`, whatever their value.
            seen.time += 1;
            return true;
        }
        let bad = |lone_quote| {
            Some(Unstorable {
                start: start + range.start,
                end: start + range.end,
                lone_quote,
            })
        };
        let problem = match FieldType::of(value) {
            None => bad(false),
            Some(FieldType::String) if value.len() < 2 => bad(true),
            Some(ty) => {
                // Keys may hold escapes here: equal keys need not have equal lengths.
                seen.maybe_conflict = true;
                if value::storable(value, ty) {
                    None
                } else {
                    bad(false)
                }
            }
        };
        if seen.unstorable.is_none() {
            seen.unstorable = problem;
        }
        true
    });
    if let Err(key) = split {
        let key = fields.get(key).unwrap_or_default();
        return Err(ErrorKind::InvalidValue(Quote::new(key)).into());
    }
    Ok(seen)
}

/// Whether the field set `fields` (well formed) has two fields with the same key and
/// values of different types: the writer's check of a finished point.
pub(crate) fn conflicts(fields: &[u8], types: &mut Scratch) -> bool {
    let mut keys = Keys::default();
    let _ = walk(fields, |key, value| {
        let value = fields.get(value).unwrap_or_default();
        let name = fields.get(key.clone()).unwrap_or_default();
        if let Some(ty) = FieldType::of(value).filter(|_| !field_key_eq(name, b"time")) {
            keys.push(key.start, key.len(), ty, types);
        }
        true
    });
    keys.conflict(fields, true, types)
}
