//! Spelling label-id's output: where an id tag sorts among the tags as written, and the
//! id in decimal. Names and string values are the SDK's business ([`Name`], [`push_string`]).
//!
//! [`Name`]: sluice_plugin_sdk::Name
//! [`push_string`]: sluice_plugin_sdk::push_string

use std::cmp::Ordering;

use sluice_plugin_sdk::Escaped;

/// How a tag key as written sorts against `escaped` (a key as written): by bytes as
/// written, the order InfluxDB 1.x sorts tags in.
#[inline]
pub(crate) fn cmp_raw(key: Escaped<'_>, escaped: &[u8]) -> Ordering {
    key.as_raw().cmp(escaped)
}

/// Appends `n` in decimal (`itoa`).
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::Batch;

    #[test]
    fn tags_sort_as_written() {
        let batch = Batch::new(b"m,a\\ b=1,ab=2 v=1 1\n");
        let point = batch.points().next().unwrap().unwrap();
        assert_eq!(
            cmp_raw(point.tags().nth(1).unwrap().0, b"ab"),
            Ordering::Equal
        );
        assert_eq!(
            cmp_raw(point.tags().nth(1).unwrap().0, b"ac"),
            Ordering::Less
        );
    }

    #[test]
    fn decimal() {
        for n in [0, 7, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
