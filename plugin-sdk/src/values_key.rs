//! [`values_key`]: an unambiguous byte key of some tags' values, for a plugin's caches.

use crate::Escaped;

/// Writes into `out` (cleared first) a key of `values` — the values of some tags, in a
/// fixed order, `None` where a point has no such tag — as written, escapes kept: per value
/// `0` (absent) or `1`, its length (4 bytes, little-endian) and its bytes. Each part
/// delimits itself, so two different combinations never give the same key; two spellings
/// of one text (`a\b`, `a\\b`) give two keys (nothing is unescaped on the hot path).
///
/// ```
/// use sluice_plugin_sdk::{Batch, values_key};
/// let batch = Batch::new(b"m,a=x,b=y v=1 1\n");
/// let point = batch.points().next().unwrap()?;
/// let mut key = Vec::new();
/// values_key(&mut key, &[point.tag("a"), None]);
/// assert_eq!(key, b"\x01\x01\x00\x00\x00x\x00");
/// # Ok::<(), sluice_plugin_sdk::ViewError>(())
/// ```
#[inline]
pub fn values_key(out: &mut Vec<u8>, values: &[Option<Escaped<'_>>]) {
    out.clear();
    for value in values {
        match value {
            None => out.push(0),
            Some(value) => {
                let raw = value.as_raw();
                out.push(1);
                out.extend_from_slice(&u32::try_from(raw.len()).unwrap_or(u32::MAX).to_le_bytes());
                out.extend_from_slice(raw);
            }
        }
    }
}
