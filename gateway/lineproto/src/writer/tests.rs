//! Tests of the writer: escaping, every field type, raw copies, and refusals.

use super::*;
use crate::{Options, Precision, canonicalize_with, points};

/// What the writer wrote, checked to be canonical: the canonicaliser (unsigned integers
/// allowed) returns it unchanged.
#[track_caller]
fn text(w: &LineWriter) -> String {
    let mut again = Vec::new();
    let options = Options::v1().with_unsigned(true);
    let s = canonicalize_with(w.as_bytes(), Precision::Nanosecond, 0, &options, &mut again);
    assert_eq!(again, w.as_bytes(), "{:?}", s.first_error);
    assert_eq!((s.points, s.dropped), (w.points(), 0));
    String::from_utf8(w.as_bytes().to_vec()).unwrap()
}

#[test]
fn writes_every_field_type() {
    let mut w = LineWriter::new();
    let mut p = w.point("cpu");
    p.tag("host", "a").tag("dc", "eu");
    p.field_f64("f", 0.5)
        .field_i64("i", -5)
        .field_u64("u", u64::MAX)
        .field_bool("b", true)
        .field_bool("n", false)
        .field_str("s", "x y");
    p.finish(1_700_000_000_000_000_123).unwrap();
    assert_eq!(
        text(&w),
        "cpu,host=a,dc=eu f=0.5,i=-5i,u=18446744073709551615u,b=true,n=false,s=\"x y\" 1700000000000000123\n"
    );
    assert_eq!(w.points(), 1);
}

#[test]
fn writes_floats_that_read_back_the_same() {
    for v in [
        0.0,
        -0.0,
        1.0,
        -1.5,
        1e300,
        -1e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        0.1 + 0.2,
        123_456_789_012_345_680_000.0,
    ] {
        let mut w = LineWriter::new();
        let mut p = w.point("m");
        p.field_f64("v", v);
        p.finish(1).unwrap();
        let _ = text(&w);
        let batch = w.into_inner();
        let point = points(&batch).next().unwrap().unwrap();
        match point.field("v") {
            Some(FieldValue::Float(read)) => assert_eq!(read.to_bits(), v.to_bits(), "{v}"),
            other => panic!("{v}: {other:?}"),
        }
    }
}

#[test]
fn escapes_plain_text_for_its_place() {
    // A backslash before each byte 1.x unescapes in that place; backslashes stay as they
    // are (1.x reads `\\,` as a backslash and an escaped comma).
    let mut w = LineWriter::new();
    let mut p = w.point(r#"m x,y="z\,\q"#);
    p.tag(r#"t k,="\,\q"#, r#"v a,="\ \q"#);
    p.field_str(r#"f k,="\\,\q"#, "say \"hi\" \\ , = \nnext line");
    p.finish(5).unwrap();
    assert_eq!(
        text(&w),
        concat!(
            r#"m\ x\,y\=\"z\\,\q,t\ k\,\="\\,\q=v\ a\,\="\\ \q "#,
            r#"f\ k\,\=\"\\\,\q="say \"hi\" \\ , = "#,
            "\nnext line\" 5\n"
        )
    );
    let batch = w.into_inner();
    let point = points(&batch).next().unwrap().unwrap();
    assert_eq!(point.measurement(), r#"m x,y="z\,\q"#);
    assert_eq!(point.tag(r#"t k,="\,\q"#).unwrap(), r#"v a,="\ \q"#);
    assert_eq!(
        point.field(r#"f k,="\\,\q"#).unwrap().as_str().unwrap(),
        "say \"hi\" \\ , = \nnext line"
    );
}

/// Ends a builder chain in a closure that returns nothing.
fn done(_: &mut PointWriter<'_>) {}

/// How a case of [`refuses_names_influxdb_1x_cannot_read_back`] builds its point.
type Build = fn(&mut PointWriter<'_>);

#[test]
fn refuses_names_influxdb_1x_cannot_read_back() {
    use WriteErrorKind::*;
    let cases: [(&str, Build, WriteErrorKind); 15] = [
        (
            r"m",
            |p| done(p.tag(r"k\ k", r#"a"b"#).field_i64("v", 1)),
            LineSplit,
        ),
        (
            r"m",
            |p| done(p.tag_raw(r"k\\ k", r#"a"b"#).field_i64("v", 1)),
            LineSplit,
        ),
        (r"m\", |p| done(p.field_i64("v", 1)), TrailingBackslash),
        (
            r"m",
            |p| done(p.tag(r"t\", "a").field_i64("v", 1)),
            TrailingBackslash,
        ),
        (
            r"m",
            |p| done(p.tag("t", r"a\").field_i64("v", 1)),
            TrailingBackslash,
        ),
        (r"m", |p| done(p.field_i64(r"v\", 1)), TrailingBackslash),
        (
            r"m",
            |p| done(p.field_i64(r"a\,b", 1)),
            BackslashBeforeSeparator,
        ),
        (
            r"m",
            |p| done(p.field_i64(r"a\=b", 1)),
            BackslashBeforeSeparator,
        ),
        ("\0m", |p| done(p.field_i64("v", 1)), InvalidMeasurement),
        ("m", |p| done(p.field_i64("\0v", 1)), InvalidFieldKey),
        (
            "m",
            |p| done(p.tag("time", "a").field_i64("v", 1)),
            TagNamedTime,
        ),
        (
            "m",
            |p| {
                done(
                    p.tag("a", "1")
                        .tag("b", "2")
                        .tag("a", "3")
                        .field_i64("v", 1),
                )
            },
            DuplicateTag,
        ),
        (
            "m",
            |p| done(p.tag_raw("a", "1").tag_raw("a", "3").field_i64("v", 1)),
            DuplicateTag,
        ),
        (
            "m",
            |p| done(p.field_i64("v", 1).field_f64("v", 1.0)),
            FieldTypeConflict,
        ),
        (
            "m",
            |p| done(p.field_raw("v", "1").field_str("v", "x")),
            FieldTypeConflict,
        ),
    ];
    for (measurement, build, kind) in cases {
        let mut w = LineWriter::new();
        let mut p = w.point(measurement);
        build(&mut p);
        assert_eq!(p.finish(1).unwrap_err().kind, kind);
        assert!(w.is_empty(), "{kind:?}");
    }
    // These read back fine: an even run of backslashes before a separator in a field
    // key, backslashes elsewhere, the same key twice with the same type.
    let mut w = LineWriter::new();
    let mut p = w.point(r"m\x");
    p.tag(r"t\x", r"a\\b")
        .field_i64(r"a\\,b\c", 1)
        .field_i64("v", 1)
        .field_i64("v", 2);
    p.finish(1).unwrap();
    let text = text(&w);
    let batch = w.into_inner();
    let p = points(&batch).next().unwrap().unwrap();
    assert_eq!(p.measurement(), r"m\x", "{text}");
    assert_eq!(p.tag(r"t\x").unwrap(), r"a\\b");
    assert_eq!(p.field(r"a\\,b\c"), Some(FieldValue::Integer(1)));
}

#[test]
fn copies_a_point_minus_a_tag_without_unescaping() {
    let batch = b"m\\ x,node=n\\ 1,label=a\\,b,dc=eu v=1,s=\"a \\\"q\\\"\" 7\n";
    let point = points(batch).next().unwrap().unwrap();
    let mut w = LineWriter::new();
    let mut p = w.point_raw(point.measurement());
    for (k, v) in point.tags().filter(|(k, _)| *k != "node") {
        p.tag_raw(k, v);
    }
    p.fields_raw(point.fields_raw());
    p.finish_raw(point.timestamp_raw()).unwrap();
    let mut p = w.point_raw(point.measurement());
    p.tags_raw(point.tags_raw());
    for f in point.fields() {
        p.field_raw(f.key(), f.raw_value());
    }
    p.finish(point.timestamp()).unwrap();
    let mut p = w.point("copy");
    for (n, f) in point.fields().enumerate() {
        p.field_value(["x", "y"][n], f.value().unwrap());
    }
    p.finish(1).unwrap();
    w.push_point(&point);
    w.push_line(point.line());
    assert_eq!(
        text(&w),
        "m\\ x,label=a\\,b,dc=eu v=1,s=\"a \\\"q\\\"\" 7\n\
         m\\ x,node=n\\ 1,label=a\\,b,dc=eu v=1,s=\"a \\\"q\\\"\" 7\n\
         copy x=1.0,y=\"a \\\"q\\\"\" 1\n\
         m\\ x,node=n\\ 1,label=a\\,b,dc=eu v=1,s=\"a \\\"q\\\"\" 7\n\
         m\\ x,node=n\\ 1,label=a\\,b,dc=eu v=1,s=\"a \\\"q\\\"\" 7\n"
    );
    assert_eq!(w.points(), 5);
}

#[test]
fn refuses_bad_points_and_keeps_the_buffer_whole() {
    use WriteErrorKind::*;
    type Build = fn(&mut PointWriter<'_>);
    let cases: [(&str, Build, i64, WriteErrorKind, &str); 16] = [
        (
            "m",
            |p| {
                p.field_i64("\tv", 1);
            },
            1,
            InvalidFieldKey,
            "\tv",
        ),
        (
            "m",
            |p| {
                p.field_i64("v", 1).field_i64("\tw", 1);
            },
            1,
            InvalidFieldKey,
            "\tw",
        ),
        ("m", |_| {}, 1, NoFields, "m"),
        (
            "m",
            |p| {
                p.tag("t", "a");
            },
            1,
            NoFields,
            "m,t=a",
        ),
        (
            "",
            |p| {
                p.field_i64("v", 1);
            },
            1,
            EmptyMeasurement,
            "",
        ),
        (
            "#m",
            |p| {
                p.field_i64("v", 1);
            },
            1,
            InvalidMeasurement,
            "#m",
        ),
        (
            "\tm",
            |p| {
                p.field_i64("v", 1);
            },
            1,
            InvalidMeasurement,
            "\tm",
        ),
        (
            "m",
            |p| {
                p.tag("", "a").field_i64("v", 1);
            },
            1,
            EmptyTagKey,
            "",
        ),
        (
            "m",
            |p| {
                p.tag("t", "").field_i64("v", 1);
            },
            1,
            EmptyTagValue,
            "",
        ),
        (
            "m",
            |p| {
                p.field_i64("", 1);
            },
            1,
            EmptyFieldKey,
            "",
        ),
        (
            "m",
            |p| {
                p.field_i64("time", 1);
            },
            1,
            FieldNamedTime,
            "time",
        ),
        (
            "m",
            |p| {
                p.tag("t", "a\nb").field_i64("v", 1);
            },
            1,
            NewlineInName,
            "a\nb",
        ),
        (
            "m",
            |p| {
                p.field_f64("v", f64::NAN);
            },
            1,
            NonFiniteFloat,
            "NaN",
        ),
        (
            "m",
            |p| {
                p.field_f64("v", f64::NEG_INFINITY);
            },
            1,
            NonFiniteFloat,
            "-inf",
        ),
        (
            "m",
            |p| {
                p.field_i64("v", 1).tag("t", "a");
            },
            1,
            TagAfterField,
            "t",
        ),
        (
            "m",
            |p| {
                p.field_i64("v", 1);
            },
            i64::MAX,
            TimeOutsideRange,
            "9223372036854775807",
        ),
    ];
    for (measurement, build, ts, kind, input) in cases {
        let mut w = LineWriter::new();
        let mut p = w.point("ok");
        p.field_i64("v", 1);
        p.finish(1).unwrap();
        let mut p = w.point(measurement);
        build(&mut p);
        let e = p.finish(ts).unwrap_err();
        assert_eq!((e.kind, e.input.to_string()), (kind, input.to_owned()));
        assert_eq!(
            (text(&w), w.points()),
            ("ok v=1i 1\n".to_owned(), 1),
            "{kind:?}"
        );
    }
    let mut w = LineWriter::new();
    let mut p = w.point("m");
    p.field_raw("v", "");
    assert_eq!(p.finish(1).unwrap_err().kind, EmptyFieldValue);
    let mut p = w.point("m");
    p.field_i64("v", 1);
    assert_eq!(p.finish_raw(b"").unwrap_err().kind, TimeOutsideRange);
    assert!(w.is_empty());
    assert_eq!(
        w.point("m").finish(1).unwrap_err().to_string(),
        "unable to write 'm': point has no fields"
    );
}

#[test]
fn discards_a_point_dropped_without_finish() {
    let mut w = LineWriter::with_capacity(64);
    {
        let mut p = w.point("m");
        p.field_i64("v", 1);
    }
    assert!(w.is_empty());
    let mut p = w.point("m");
    p.field_bool("v", true);
    p.finish(-1).unwrap();
    assert_eq!((w.len(), w.points()), (12, 1));
    w.clear();
    assert!(w.is_empty() && w.points() == 0);
}

#[test]
fn appends_to_an_existing_buffer() {
    let mut w = LineWriter::from_vec(b"a v=1 1\n".to_vec());
    let mut p = w.point("b");
    p.field_i64("v", 2);
    p.finish(2).unwrap();
    assert_eq!(w.into_inner(), b"a v=1 1\nb v=2i 2\n");
}

#[test]
fn copies_runs_of_kept_tags_and_fields() {
    let batch = b"m,a=1,b\\,x=2,c=3,d=4 w=1,x=\"a,b=c\",y=2i,z=t 9\n";
    let point = points(batch).next().unwrap().unwrap();
    for (drop_tags, drop_fields, expected) in [
        (
            &[][..],
            &[][..],
            "m,a=1,b\\,x=2,c=3,d=4 w=1,x=\"a,b=c\",y=2i,z=t 9\n",
        ),
        (&["a"], &["w"], "m,b\\,x=2,c=3,d=4 x=\"a,b=c\",y=2i,z=t 9\n"),
        (&["b,x", "d"], &["x", "z"], "m,a=1,c=3 w=1,y=2i 9\n"),
        (
            &["a", "b,x", "c", "d"],
            &["w", "y"],
            "m x=\"a,b=c\",z=t 9\n",
        ),
        (&["c"], &["x"], "m,a=1,b\\,x=2,d=4 w=1,y=2i,z=t 9\n"),
    ] {
        let mut w = LineWriter::new();
        let mut p = w.point_raw(point.measurement());
        p.tags_from(&point, |k, _| !drop_tags.iter().any(|d| k == *d));
        p.fields_from(&point, |f| !drop_fields.iter().any(|d| f.key() == *d));
        p.finish_raw(point.timestamp_raw()).unwrap();
        assert_eq!(text(&w), expected, "{drop_tags:?} {drop_fields:?}");
    }
    // Dropping every field leaves a point without fields, which is refused.
    let mut w = LineWriter::new();
    let mut p = w.point_raw(point.measurement());
    p.fields_from(&point, |_| false);
    assert_eq!(p.finish(1).unwrap_err().kind, WriteErrorKind::NoFields);
    // The values handed to `keep` are the tag's.
    let mut seen = Vec::new();
    let mut p = w.point("m");
    p.tags_from(&point, |k, v| {
        seen.push(format!("{k}={v}"));
        true
    });
    drop(p);
    assert_eq!(seen, ["a=1", "b,x=2", "c=3", "d=4"]);
}
