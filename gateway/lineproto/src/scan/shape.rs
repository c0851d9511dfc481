//! A point's field shape: a 64-bit digest of its field keys (as written) and their
//! values' types, in order, built as the field scan goes. Two points with the same
//! measurement and shape give their fields the same types, so a request's field types
//! need checking ([`crate::canonicalize`]) only when the shape changes. Digests of
//! different shapes may collide (a key is read by its length and its first and last
//! eight bytes); a collision only skips that check.

use super::value::FieldType;

/// The shape of no field.
pub(crate) const EMPTY: u64 = 0x9e37_79b9_7f4a_7c15;

/// `shape` extended by a field with key `key` and a value of type `ty`.
#[inline(always)]
pub(crate) fn push(shape: u64, key: &[u8], ty: FieldType) -> u64 {
    let len = key.len();
    let (head, tail) = match (key.first_chunk::<8>(), key.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
        // Shorter than eight bytes: all of it.
        _ => (key.iter().fold(0, |w, &b| w << 8 | u64::from(b)), 0),
    };
    let mixed = (shape ^ head).wrapping_mul(0xff51_afd7_ed55_8ccd)
        ^ tail.rotate_left(23)
        ^ ((len as u64) << 40)
        ^ (ty as u64 + 1);
    mixed.wrapping_mul(0xc4ce_b9fe_1a85_ec53).rotate_left(17)
}

/// The shape of the field set `fields` (well formed), split as 1.x stores it.
pub(crate) fn of(fields: &[u8]) -> u64 {
    let mut shape = EMPTY;
    let _ = super::fields::walk(fields, |key, value| {
        let key = fields.get(key).unwrap_or_default();
        if let Some(ty) = fields.get(value).and_then(FieldType::of) {
            shape = push(shape, key, ty);
        }
        true
    });
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_types_and_order_make_the_shape() {
        let a = of(b"count=1i,mean=2.5");
        assert_eq!(a, of(b"count=7i,mean=0"));
        assert_ne!(a, of(b"count=1,mean=2.5"));
        assert_ne!(a, of(b"mean=2.5,count=1i"));
        assert_ne!(a, of(b"count=1i,mean=\"x\""));
        assert_ne!(a, of(b"count=1i"));
        assert_ne!(
            of(b"response_time_p95_total=1"),
            of(b"response_time_p99_total=1")
        );
        assert_ne!(of(b"a=1"), of(b"b=1"));
        assert_ne!(of(b"a=t"), of(b"a=1i"));
    }
}
