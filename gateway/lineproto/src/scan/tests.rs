//! Tests of the scanner's helpers: sections, line ends (1.x's `scanLine`), the fast scan
//! agreeing with the exact one. The syntax itself is tested through
//! [`canonicalize`](crate::canonicalize()) in `canonicalize/tests.rs`.

use super::*;

fn v1() -> Options {
    Options::v1()
}

#[test]
fn finds_sections() {
    let b = b"  m,t=a  v=1,s=\"x\ny\"  \t5  \r\nnext";
    let s = point(b, 0, 2, 1, &v1(), &mut Scratch::default()).unwrap();
    assert_eq!(&b[2..s.key_end], b"m,t=a");
    assert_eq!(&b[s.fields_start..s.fields_end], b"v=1,s=\"x\ny\"");
    assert_eq!(&b[s.ts_start..s.ts_end], b"5");
    assert_eq!(s.timestamp, Some(5));
    assert_eq!(s.newlines, 1);
    assert_eq!(&b[s.next..], b"next");
}

#[test]
fn ends_lines_like_influxdb() {
    // (input, end): scanLine's line end from 0.
    for (input, end) in [
        (&b"abc\ndef"[..], 3),
        (b"abc", 3),
        (b"m s=\"a\nb\" 1\nx", 11),
        (b"m s=\"a\nb", 8),
        // No space yet: quotes do not count.
        (b"m,t=\"a\nb", 6),
        // A quote in a key (no `=` before it) does not count.
        (b"m a\"b=1\nx", 7),
        (b"m s=\"a\\\"\nb\" 1\nx", 13),
        // A backslash takes a line feed along, unless they end the body.
        (b"m,t=a\\\nx", 8),
        (b"m,t=a\\\n", 6),
        (b"m,t=a\\\\\nx", 7),
        (b"m v=1,s=\"\n\" 1\n", 13),
        // `\\ ` is a space for the line splitter: counting starts in the key.
        (b"m,t\\\\ k=a\"b v=1\nx\"\ny", 18),
        (b" m=x\"y v=1\nx\"\ny", 13),
        (b"# a=b \"x\ny\"\nz", 11),
        (b"", 0),
    ] {
        assert_eq!(
            block_end(input, 0),
            end,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn tracks_quotes_over_parts() {
    let mut line = line::LineScan::default();
    line.feed(br"m,t\\ k=a");
    assert!(!line.quoted());
    line.feed(b"\"b");
    assert!(line.quoted());
    let mut line = line::LineScan::default();
    line.feed(br#"m,t=a"b v="x\" y" "#);
    assert!(!line.quoted());
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

/// The fast scan, where it answers, agrees with the exact one.
#[track_caller]
fn fast_agrees(b: &[u8]) {
    let start = skip_blank(b, 0);
    if b.get(..start).is_some_and(|l| l.contains(&b' ')) {
        return;
    }
    let fast = parse(Input::fast(b), start, 1, &v1(), &mut Scratch::default());
    let exact = point(b, 0, start, 1, &v1(), &mut Scratch::default());
    if let Ok(f) = fast {
        let e = exact.unwrap_or_else(|e| panic!("{:?}: fast ok, exact {e}", b.escape_ascii()));
        assert_eq!(
            (f.key_end, f.fields_start, f.fields_end, f.ts_end, f.next),
            (e.key_end, e.fields_start, e.fields_end, e.ts_end, e.next),
            "{:?}",
            b.escape_ascii().to_string()
        );
        assert_eq!(f.newlines, e.newlines, "{:?}", b.escape_ascii().to_string());
    }
}

#[test]
fn fast_and_exact_scans_agree() {
    for line in [
        &b"m v=1 5\nx"[..],
        b"m,t=a\\\nb v=1 5\nx",
        b"m s=\"a\nb\" 5\nx",
        b"m s=\"a\\\nb\" 5\r\nx",
        b"m v=1\r\n",
        b"m v=1 5\r",
        b"m\\ x,t=a\\ b v=\"\\\"\" 5\n",
        b"m a\\ b=1,c=\"x\"y 5",
    ] {
        fast_agrees(line);
    }
}

#[test]
fn never_reads_out_of_bounds() {
    // Every prefix of tricky input, at every start.
    let input = b"m\\,t\\=a=\\ ,s=\"\\\"x\\\\\" -12 \\";
    for len in 0..=input.len() {
        let b = &input[..len];
        for start in 0..=len + 1 {
            let _ = point(b, start.min(len), start, 1, &v1(), &mut Scratch::default());
            let _ = block_end(b, start);
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ALPHABET: &[u8] = b"m v=1,t\\\" \n\r\t\0#=,iuTfe-.05\"\\";

    proptest! {
        #[test]
        fn fast_and_exact_scans_agree_on_anything(
            b in prop::collection::vec(prop::sample::select(ALPHABET), 0..60)
        ) {
            fast_agrees(&b);
        }
    }
}
