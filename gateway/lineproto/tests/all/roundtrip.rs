//! Writer → canonicaliser → view: what goes in comes out.

use proptest::prelude::*;
use sluice_lineproto::{
    FieldValue, LineWriter, MAX_TIMESTAMP, MIN_TIMESTAMP, Options, Precision, WriteErrorKind,
    canonicalize_with, points,
};

/// Text with every byte that needs escaping somewhere (no line feed: names cannot hold
/// one, and string values get theirs from `string_value`).
const NAME: &str = "[a-z0-9 ,=\\\\\"#'\t\r_.é😀-]{1,8}";

#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Integer(i64),
    UInteger(u64),
    Boolean(bool),
    String(String),
}

#[derive(Debug, Clone)]
struct TestPoint {
    measurement: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, Value)>,
    timestamp: i64,
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Value::Float),
        any::<i64>().prop_map(Value::Integer),
        any::<u64>().prop_map(Value::UInteger),
        any::<bool>().prop_map(Value::Boolean),
        "[a-z \\\\\"\n\r,=é]{0,12}".prop_map(Value::String),
    ]
}

fn test_point() -> impl Strategy<Value = TestPoint> {
    (
        NAME.prop_filter("not a comment or leading whitespace", |m| {
            !m.starts_with(['#', '\t'])
        }),
        prop::collection::vec((NAME, NAME), 0..4),
        prop::collection::vec(
            (
                NAME.prop_filter("not time, no leading tab", |k| {
                    k != "time" && !k.starts_with('\t')
                }),
                value(),
            ),
            1..5,
        ),
        MIN_TIMESTAMP..=MAX_TIMESTAMP,
    )
        .prop_map(|(measurement, tags, fields, timestamp)| TestPoint {
            measurement,
            tags,
            fields,
            timestamp,
        })
}

/// Writes the points; returns the writer and the points it kept. It may refuse a point
/// only for what InfluxDB 1.x could not read back or would refuse.
fn write(points: &[TestPoint]) -> (LineWriter, Vec<TestPoint>) {
    use WriteErrorKind::*;
    let mut w = LineWriter::new();
    let mut kept = Vec::new();
    for tp in points {
        let mut p = w.point(&tp.measurement);
        for (k, v) in &tp.tags {
            p.tag(k, v);
        }
        for (k, v) in &tp.fields {
            match v {
                Value::Float(v) => p.field_f64(k, *v),
                Value::Integer(v) => p.field_i64(k, *v),
                Value::UInteger(v) => p.field_u64(k, *v),
                Value::Boolean(v) => p.field_bool(k, *v),
                Value::String(v) => p.field_str(k, v),
            };
        }
        match p.finish(tp.timestamp) {
            Ok(()) => kept.push(tp.clone()),
            Err(e) => assert!(
                matches!(
                    e.kind,
                    TrailingBackslash
                        | BackslashBeforeSeparator
                        | DuplicateTag
                        | TagNamedTime
                        | FieldTypeConflict
                        | LineSplit
                ),
                "{e} for {tp:?}"
            ),
        }
    }
    (w, kept)
}

proptest! {
    #[test]
    fn written_points_come_back_unchanged(batch in prop::collection::vec(test_point(), 1..6)) {
        let (w, batch) = write(&batch);
        prop_assert_eq!(w.points(), batch.len());

        let mut out = Vec::new();
        let options = Options::v1().with_unsigned(true);
        let s = canonicalize_with(w.as_bytes(), Precision::Nanosecond, 0, &options, &mut out);
        prop_assert_eq!(s.first_error, None);
        prop_assert_eq!(s.points, batch.len());
        prop_assert_eq!(&out, w.as_bytes());

        let read: Vec<_> = points(&out).collect();
        prop_assert_eq!(read.len(), batch.len());
        for (p, tp) in read.into_iter().zip(&batch) {
            let p = p.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(p.measurement() == tp.measurement.as_str());
            prop_assert_eq!(p.timestamp(), tp.timestamp);
            let tags: Vec<(String, String)> = p
                .tags()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            prop_assert_eq!(&tags, &tp.tags);
            for (k, _) in &tp.tags {
                let first = &tp.tags.iter().find(|(k2, _)| k2 == k).unwrap().1;
                prop_assert!(p.tag(k).unwrap() == first.as_str());
            }
            let fields: Vec<_> = p.fields().collect();
            prop_assert_eq!(fields.len(), tp.fields.len());
            for (f, (k, v)) in fields.iter().zip(&tp.fields) {
                prop_assert!(f.key() == k.as_str());
                let read = f.value();
                let same = match (read, v) {
                    (Some(FieldValue::Float(a)), Value::Float(b)) => a.to_bits() == b.to_bits(),
                    (Some(FieldValue::Integer(a)), Value::Integer(b)) => a == *b,
                    (Some(FieldValue::UInteger(a)), Value::UInteger(b)) => a == *b,
                    (Some(FieldValue::Boolean(a)), Value::Boolean(b)) => a == *b,
                    (Some(FieldValue::String(a)), Value::String(b)) => a == b.as_str(),
                    _ => false,
                };
                prop_assert!(same, "{:?} read as {:?}", v, read);
            }
        }
    }

    #[test]
    fn copying_points_through_the_view_keeps_them(batch in prop::collection::vec(test_point(), 1..6)) {
        let original = write(&batch).0.into_inner();
        let mut copy = LineWriter::new();
        for p in points(&original) {
            let p = p.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut w = copy.point_raw(p.measurement());
            for (k, v) in p.tags() {
                w.tag_raw(k, v);
            }
            for f in p.fields() {
                w.field_raw(f.key(), f.raw_value());
            }
            w.finish_raw(p.timestamp_raw()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        prop_assert_eq!(copy.as_bytes(), &original[..]);
    }
}
