use crate::*;
fn c(input: &str, p: Precision) -> (String, Summary) {
    let mut out = Vec::new();
    let s = canonicalize(input.as_bytes(), p, 1_700_000_000_123_456_789, &mut out);
    (String::from_utf8(out).unwrap(), s)
}
#[test]
fn basics() {
    let ns = Precision::Nanosecond;
    assert_eq!(c("m v=1 1\n", ns).0, "m v=1 1\n");
    assert_eq!(c("m v=1", ns).0, "m v=1 1700000000123456789\n");
    assert_eq!(
        c("m v=1", Precision::Second).0,
        "m v=1 1700000000000000000\n"
    );
    assert_eq!(
        c("  m,t=a   v=1i,s=\"a b,c=d\\\"\"   -5  \r\n\n# c\n\r\n", ns).0,
        "m,t=a v=1i,s=\"a b,c=d\\\"\" -5\n"
    );
    assert_eq!(
        c("m\\ x,t\\,k=a\\ b f\\=x=t 5", ns).0,
        "m\\ x,t\\,k=a\\ b f\\=x=t 5\n"
    );
    assert_eq!(
        c("m s=\"line1\nline2\" 5\nm v=2 6", ns).0,
        "m s=\"line1\nline2\" 5\nm v=2 6\n"
    );
    for good in [
        "1",
        "-1.5",
        "1e9",
        ".5",
        "1.",
        "-1.5E-3",
        "1E+5",
        "9223372036854775807i",
        "-9223372036854775808i",
        "18446744073709551615u",
        "TRUE",
        "f",
        "False",
    ] {
        let (o, s) = c(&format!("m v={good} 1"), ns);
        assert_eq!(s.points, 1, "{good}: {:?}", s.first_error);
        assert_eq!(o, format!("m v={good} 1\n"));
    }
    for (bad, kind) in [
        ("m v=1.2.3", ErrorKind::InvalidNumber),
        ("m v=1e", ErrorKind::InvalidNumber),
        ("m v=nan", ErrorKind::InvalidNumber),
        ("m v=inf", ErrorKind::InvalidNumber),
        ("m v=tru", ErrorKind::InvalidBoolean),
        ("m v=9223372036854775808i", ErrorKind::ValueOutOfRange),
        ("m v=-1u", ErrorKind::InvalidNumber),
        ("m", ErrorKind::MissingFields),
        ("m,t=a", ErrorKind::MissingFields),
        (",t=a v=1", ErrorKind::MissingMeasurement),
        ("m,=a v=1", ErrorKind::MissingTagKey),
        ("m,t= v=1", ErrorKind::MissingTagValue),
        ("m,t v=1", ErrorKind::InvalidTagFormat),
        ("m =1", ErrorKind::MissingFieldKey),
        ("m v=", ErrorKind::MissingFieldValue),
        ("m v= 1", ErrorKind::MissingFieldValue),
        ("m v", ErrorKind::MissingFieldValue),
        ("m v=\"abc", ErrorKind::UnbalancedQuotes),
        ("m time=1 1", ErrorKind::InvalidFieldNameTime),
        ("m v=1 12a", ErrorKind::BadTimestamp),
        ("m v=1 1 2", ErrorKind::BadTimestamp),
        ("m v=1 99999999999999999999", ErrorKind::TimeOutsideRange),
        ("m v=\"a\"x 1", ErrorKind::InvalidFieldFormat),
        ("this is not line protocol", ErrorKind::InvalidFieldFormat),
    ] {
        let (o, s) = c(bad, ns);
        assert_eq!((o.as_str(), s.points, s.dropped), ("", 0, 1), "{bad}");
        assert_eq!(s.first_error.unwrap().kind, kind, "{bad}");
    }
    let (o, s) = c("m v=1 9223372036854775", Precision::Second);
    assert_eq!(
        (o.as_str(), s.first_error.unwrap().kind),
        ("", ErrorKind::TimeOutsideRange)
    );
    let (o, s) = c("a v=1 1\nbad line\nb v=2 2\n\nc\n", ns);
    assert_eq!(o, "a v=1 1\nb v=2 2\n");
    assert_eq!((s.points, s.dropped), (2, 2));
    let e = s.first_error.unwrap();
    assert_eq!(e.line, 2);
    assert_eq!(
        e.to_string(),
        "unable to parse 'bad line': invalid field format"
    );
    let (o, _) = c("m v=1 1\n", Precision::Hour);
    assert_eq!(o, "m v=1 3600000000000\n");
    let (o, _) = c("m v=1", Precision::Hour);
    assert_eq!(o, "m v=1 1699999200000000000\n");
}
#[test]
fn idempotent_and_no_panic() {
    let input = "m\\ x,t\\,k=a\\ b f\\=x=t 5\nm s=\"line1\nline2\" 5\n";
    let (o, _) = c(input, Precision::Nanosecond);
    let (o2, _) = c(&o, Precision::Nanosecond);
    assert_eq!(o, o2);
    let mut seed = 1u64;
    for _ in 0..20000 {
        let mut v = Vec::new();
        for _ in 0..(seed % 40) {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.push(b"m v=1,\\\" \n\r=itu0-.e#\t"[(seed >> 33) as usize % 21]);
        }
        let mut out = Vec::new();
        let s = canonicalize(&v, Precision::Nanosecond, 0, &mut out);
        let mut out2 = Vec::new();
        let s2 = canonicalize(&out, Precision::Nanosecond, 0, &mut out2);
        assert_eq!(out, out2, "{:?}", String::from_utf8_lossy(&v));
        assert_eq!(s.points, s2.points);
    }
}
