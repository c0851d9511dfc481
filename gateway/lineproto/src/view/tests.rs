//! Tests of the view: reading canonical batches, escapes, values, and errors.

use super::*;
use crate::error::ErrorKind;

fn one(batch: &[u8]) -> Point<'_> {
    let mut all = points(batch);
    let p = all.next().unwrap().unwrap();
    assert!(all.next().is_none());
    p
}

#[test]
fn reads_every_section() {
    let batch = b"cpu,host=a,dc=eu usage=0.5,n=3i,ok=true,s=\"x y\" 1700000000000000123\n";
    let p = one(batch);
    assert_eq!(p.line(), &batch[..batch.len() - 1]);
    assert_eq!(p.measurement(), "cpu");
    assert_eq!(p.key_raw(), b"cpu,host=a,dc=eu");
    assert_eq!(p.tags_raw(), b"host=a,dc=eu");
    assert_eq!(p.fields_raw(), b"usage=0.5,n=3i,ok=true,s=\"x y\"");
    assert_eq!(p.timestamp(), 1_700_000_000_000_000_123);
    assert_eq!(p.timestamp_raw(), b"1700000000000000123");
    let tags: Vec<(String, String)> = p
        .tags()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        tags,
        [("host".into(), "a".into()), ("dc".into(), "eu".into())]
    );
    assert_eq!(p.tag("dc").unwrap(), "eu");
    assert!(p.tag("zone").is_none());
    let fields: Vec<(String, Option<FieldValue<'_>>)> = p
        .fields()
        .map(|f| (f.key().to_string(), f.value()))
        .collect();
    assert_eq!(fields.len(), 4);
    assert_eq!(fields[0], ("usage".into(), Some(FieldValue::Float(0.5))));
    assert_eq!(fields[1], ("n".into(), Some(FieldValue::Integer(3))));
    assert_eq!(fields[2], ("ok".into(), Some(FieldValue::Boolean(true))));
    assert_eq!(p.field("s").unwrap().as_str().unwrap(), "x y");
    assert!(p.field("missing").is_none());
}

#[test]
fn reads_points_without_tags_and_negative_timestamps() {
    let p = one(b"m v=1 -5");
    assert_eq!(p.measurement(), "m");
    assert_eq!(p.tags_raw(), b"");
    assert_eq!(p.tags().count(), 0);
    assert_eq!(p.timestamp(), -5);
    assert_eq!(one(b"m v=1 0").timestamp(), 0);
    assert_eq!(
        one(b"m v=1 -9223372036854775808").timestamp(),
        i64::MIN,
        "the view reads any i64; the range is the canonicaliser's business"
    );
}

#[test]
fn reads_every_value_type() {
    for (raw, value) in [
        ("1", FieldValue::Float(1.0)),
        ("-1.5E-3", FieldValue::Float(-1.5e-3)),
        (".5", FieldValue::Float(0.5)),
        ("1.", FieldValue::Float(1.0)),
        ("1.e5", FieldValue::Float(1e5)),
        ("5i", FieldValue::Integer(5)),
        ("-9223372036854775808i", FieldValue::Integer(i64::MIN)),
        ("9223372036854775807i", FieldValue::Integer(i64::MAX)),
        ("18446744073709551615u", FieldValue::UInteger(u64::MAX)),
        ("0u", FieldValue::UInteger(0)),
        ("t", FieldValue::Boolean(true)),
        ("TRUE", FieldValue::Boolean(true)),
        ("False", FieldValue::Boolean(false)),
        ("F", FieldValue::Boolean(false)),
    ] {
        let line = format!("m v={raw} 1");
        let p = one(line.as_bytes());
        assert_eq!(p.field("v"), Some(value), "{raw}");
        let f = p.fields().next().unwrap();
        assert_eq!(f.raw_value(), raw.as_bytes());
    }
}

#[test]
fn unescapes_names_in_their_context() {
    let batch = br"m\ x\,y\=,t\ k\,\=\\=v\ a\,\=\q f\ k\,\=\\=1 5";
    let p = one(batch);
    // `\=` is not an escape in a measurement: it stays.
    assert_eq!(p.measurement(), r"m x,y\=");
    assert_eq!(p.measurement().as_raw(), br"m\ x\,y\=");
    let (k, v) = p.tags().next().unwrap();
    assert_eq!(k, r"t k,=\");
    assert_eq!(v, r"v a,=\q", "a backslash before a plain byte stays");
    assert_eq!(p.tag(r"t k,=\").unwrap().as_raw(), br"v\ a\,\=\q");
    let f = p.fields().next().unwrap();
    assert_eq!(f.key(), r"f k,=\");
    assert_eq!(p.field(r"f k,=\"), Some(FieldValue::Float(1.0)));
}

#[test]
fn unescapes_strings() {
    let p = one(b"m s=\"say \\\"hi\\\" \\\\ \\n\",e=\"\" 5");
    let s = p.field("s").unwrap().as_str().unwrap();
    assert_eq!(s.as_raw(), b"say \\\"hi\\\" \\\\ \\n");
    assert_eq!(s, r#"say "hi" \ \n"#);
    assert_eq!(&*s.unescape(), br#"say "hi" \ \n"#);
    assert_eq!(p.field("e").unwrap().as_str().unwrap(), "");
    let f: Vec<_> = p.fields().map(|f| f.raw_value()).collect();
    assert_eq!(f, [&b"\"say \\\"hi\\\" \\\\ \\n\""[..], b"\"\""]);
}

#[test]
fn escaped_compares_and_converts_without_surprises() {
    let p = one(br"m,a\ b=x,ab=y,c=\\ v=1 5");
    let tags: Vec<_> = p.tags().collect();
    let (k0, k1, v2) = (tags[0].0, tags[1].0, tags[2].1);
    assert_eq!(k0, "a b");
    assert!(k0 != "a\\ b" && k0 != "ab" && k0 != "a b " && k0 != "a");
    assert_eq!(k1, "ab");
    assert!(k0 != k1);
    assert_eq!(v2, "\\");
    assert!(v2 != "\\\\");
    assert!(matches!(k1.unescape(), std::borrow::Cow::Borrowed(b"ab")));
    assert!(matches!(k0.unescape(), std::borrow::Cow::Owned(_)));
    assert_eq!(k0.to_string_lossy(), "a b");
    assert_eq!(k0.bytes().collect::<Vec<u8>>(), b"a b");
    assert_eq!(format!("{k0}|{k0:?}"), "a b|\"a\\\\ b\"");
    assert!(!k0.is_empty());
    assert_eq!(k0.as_ref(), br"a\ b");
}

#[test]
fn reads_strings_that_span_lines() {
    let batch = b"m s=\"a\nb c\" 1\nm v=2 2\n";
    let all: Vec<_> = points(batch).collect();
    assert_eq!(all.len(), 2);
    let p = all[0].as_ref().unwrap();
    assert_eq!(p.field("s").unwrap().as_str().unwrap(), "a\nb c");
    assert_eq!(p.timestamp(), 1);
    assert_eq!(all[1].as_ref().unwrap().timestamp(), 2);
}

#[test]
fn skips_empty_lines_and_reads_a_last_line_without_line_feed() {
    let all: Vec<_> = points(b"\nm v=1 1\n\n\nm v=2 2")
        .map(|p| p.unwrap().timestamp())
        .collect();
    assert_eq!(all, [1, 2]);
    assert_eq!(points(b"").count(), 0);
    assert_eq!(points(b"\n\n").count(), 0);
}

#[test]
fn reports_lines_that_are_not_canonical_and_goes_on() {
    use ViewErrorKind::*;
    for (line, kind) in [
        (&b" m v=1 1"[..], NotCanonical),
        (b"#m v=1 1", NotCanonical),
        (b"\tm v=1 1", NotCanonical),
        (b"m  v=1 1", Syntax(ErrorKind::MissingFields)),
        (b"m v=1  1", Syntax(ErrorKind::BadTimestamp)),
        (b"m v=1 1 ", NotCanonical),
        (b"m v=1 1\r", NotCanonical),
        (b"m v=1 01", NotCanonical),
        (b"m v=1 -0", NotCanonical),
        (b"m v=1 1x", NotCanonical),
        (b"m v=1", MissingTimestamp),
        (b"m v=\"a b\"", MissingTimestamp),
        (b"m", Syntax(ErrorKind::MissingFields)),
        (b"m,t=a", Syntax(ErrorKind::MissingFields)),
        (b",t=a v=1 1", Syntax(ErrorKind::MissingMeasurement)),
        (b"m v=\"open 1", Syntax(ErrorKind::UnbalancedQuotes)),
        (
            b"m v=1 99999999999999999999",
            Syntax(ErrorKind::TimeOutsideRange),
        ),
        (b"m v=1 -", Syntax(ErrorKind::BadTimestamp)),
    ] {
        let mut batch = b"a v=1 1\n".to_vec();
        batch.extend_from_slice(line);
        batch.extend_from_slice(b"\nb v=2 2\n");
        let all: Vec<_> = points(&batch).collect();
        let l = String::from_utf8_lossy(line);
        match kind {
            Syntax(ErrorKind::UnbalancedQuotes) => assert_eq!(all.len(), 2, "{l}"),
            _ => {
                assert_eq!(all.len(), 3, "{l}");
                assert_eq!(all[2].as_ref().unwrap().timestamp(), 2, "{l}");
            }
        }
        assert_eq!(all[0].as_ref().unwrap().timestamp(), 1, "{l}");
        let e = all[1].as_ref().unwrap_err();
        assert_eq!((e.kind, e.line, e.offset), (kind, 2, 8), "{l}");
    }
}

#[test]
fn describes_errors_with_the_line() {
    let e = points(b"m v=1\n").next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "batch line 1: unable to read 'm v=1': missing timestamp"
    );
    let e = points(b"x\n,t=a v=1 1").nth(1).unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "batch line 2: unable to read ',t=a v=1 1': missing measurement"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn reads_malformed_parts_leniently() {
    // Structure is checked when walking; tags and values only when read.
    let p = one(b"m,t,u=a=b v=x,w=1.2.3,y=1 5");
    let tags: Vec<_> = p
        .tags()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(tags, [("t".into(), "".into()), ("u".into(), "a=b".into())]);
    assert_eq!(p.tag("t").unwrap(), "");
    assert_eq!(p.tag("u").unwrap(), "a=b");
    assert_eq!(p.field("v"), None);
    assert_eq!(p.field("w"), None);
    assert_eq!(p.field("y"), Some(FieldValue::Float(1.0)));
    assert_eq!(p.fields().count(), 3);
}

#[test]
fn never_panics_on_prefixes_of_tricky_input() {
    let input = b"m\\,x,t\\ k=v\\=,u=\\\\ f\\ =\"a\\\"\nb\",g=1i,h=t -123\nm s=\"\\";
    for len in 0..=input.len() {
        for p in points(&input[..len]).flatten() {
            let _ = (
                p.measurement().to_string(),
                p.timestamp(),
                p.timestamp_raw(),
            );
            for (k, v) in p.tags() {
                let _ = (k.unescape(), v.to_string_lossy());
            }
            for f in p.fields() {
                let _ = (f.key().unescape(), f.value(), f.raw_value());
            }
        }
    }
}
