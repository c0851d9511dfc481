//! Tests of the scanner's helpers (the syntax itself is tested through
//! [`canonicalize`](crate::canonicalize()) in `canonicalize/tests.rs`).

use super::*;

#[test]
fn finds_sections() {
    let b = b"  m,t=a  v=1,s=\"x\ny\"  \t5  \r\nnext";
    let s = point(b, 2).unwrap();
    assert_eq!(&b[2..s.key_end], b"m,t=a");
    assert_eq!(&b[s.fields_start..s.fields_end], b"v=1,s=\"x\ny\"");
    assert_eq!(&b[s.ts_start..s.ts_end], b"5");
    assert_eq!(s.timestamp, Some(5));
    assert_eq!(s.newlines, 1);
    assert_eq!(&b[s.next..], b"next");
}

#[test]
fn ends_a_rejected_line_like_influxdb() {
    for (input, end) in [
        (&b"abc\ndef"[..], 3),
        (b"abc", 3),
        (b"m s=\"a\nb\" 1\nx", 11),
        (b"m s=\"a\nb", 8),
        (b"m,t=\"a\nb", 6),
        (b"m a\"b=1\nx", 7),
        (b"m s=\"a\\\"\nb\" 1\nx", 13),
        (b"m,t=a\\\nx", 6),
        (b"m v=1,s=\"\n\" 1\n", 13),
        (b"", 0),
    ] {
        assert_eq!(
            rejected_line_end(input, 0),
            end,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn tells_canonical_timestamps() {
    for (text, canonical) in [
        (&b"0"[..], true),
        (b"5", true),
        (b"-5", true),
        (b"10", true),
        (b"05", false),
        (b"-0", false),
        (b"-05", false),
        (b"00", false),
    ] {
        assert_eq!(is_canonical_timestamp(text), canonical, "{text:?}");
    }
}

#[test]
fn never_reads_out_of_bounds() {
    // Every prefix of tricky input, at every start.
    let input = b"m\\,t\\=a=\\ ,s=\"\\\"x\\\\\" -12 \\";
    for len in 0..=input.len() {
        let b = &input[..len];
        for start in 0..=len + 1 {
            let _ = point(b, start);
            let _ = rejected_line_end(b, start);
        }
    }
}
