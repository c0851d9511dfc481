//! Arbitrary input: no panics, and canonical output is a fixed point.

use proptest::prelude::*;
use sluice_lineproto::{Precision, canonicalize, points};

/// Bytes that matter to the syntax, plus a few plain ones, so that random input often
/// gets deep into a line instead of failing at its first byte.
const ALPHABET: &[u8] = b"m v=1,t\\\" \n\r\t#=,iuTfe-.05\"\\\xC3\xA9";

fn line_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(prop::sample::select(ALPHABET), 0..300),
        // Valid-looking lines with random damage.
        (
            prop::collection::vec(
                prop::sample::select(vec![
                    &b"cpu,host=a v=1 17\n"[..],
                    b"m s=\"a\nb\" 5\n",
                    b"m\\ x,t\\,k=a\\ b f\\=x=t",
                    b"m v=1i,w=2u,x=\"\\\"\" -3\r\n",
                    b"# comment\n",
                    b"\n",
                ]),
                0..8,
            ),
            prop::collection::vec(prop::sample::select(ALPHABET), 0..4),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(parts, junk, at)| {
                let mut v = parts.concat();
                let i = at.index(v.len() + 1);
                v.splice(i..i, junk);
                v
            }),
    ]
}

fn precision() -> impl Strategy<Value = Precision> {
    prop::sample::select(vec![
        Precision::Nanosecond,
        Precision::Microsecond,
        Precision::Millisecond,
        Precision::Second,
        Precision::Minute,
        Precision::Hour,
    ])
}

proptest! {
    #[test]
    fn canonicalize_is_idempotent_and_never_panics(
        input in line_like(),
        precision in precision(),
        received in any::<i64>(),
    ) {
        let mut once = Vec::new();
        let first = canonicalize(&input, precision, received, &mut once);
        let mut twice = Vec::new();
        let second = canonicalize(&once, Precision::Nanosecond, 0, &mut twice);
        prop_assert_eq!(&twice, &once);
        prop_assert_eq!(second.points, first.points);
        prop_assert_eq!(second.dropped, 0, "{:?}", second.first_error);
        prop_assert_eq!(once.iter().filter(|&&b| b == b'\n').count() >= first.points, true);
        if let Some(e) = first.first_error {
            prop_assert!(first.dropped > 0);
            prop_assert!(e.line >= 1);
            prop_assert!(!e.to_string().is_empty());
        }

        // The view reads every point of canonical output, and the lines are the output.
        let mut rebuilt = Vec::new();
        let mut read = 0;
        for p in points(&once) {
            let p = p.map_err(|e| TestCaseError::fail(e.to_string()))?;
            rebuilt.extend_from_slice(p.line());
            rebuilt.push(b'\n');
            read += 1;
            for (k, v) in p.tags() {
                prop_assert!(!k.is_empty() && !v.is_empty());
            }
            for f in p.fields() {
                prop_assert!(f.value().is_some(), "{:?}", String::from_utf8_lossy(f.raw_value()));
            }
        }
        prop_assert_eq!(read, first.points);
        prop_assert_eq!(rebuilt, once);
    }

    #[test]
    fn the_view_never_panics(input in line_like()) {
        for p in points(&input).take(1_000) {
            match p {
                Ok(p) => {
                    let _ = (p.measurement().to_string(), p.key_raw(), p.timestamp_raw());
                    for (k, v) in p.tags() {
                        let _ = (k.unescape(), v.to_string_lossy(), k == "t");
                    }
                    for f in p.fields() {
                        let _ = (f.key().unescape(), f.value(), f.raw_value());
                    }
                    let _ = (p.tag("t"), p.field("v"));
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }
}
