//! The validating canonicaliser: one pass over a request body that checks every line
//! against InfluxDB 1.x's rules and appends each good point to `out` as canonical line
//! protocol — `measurement[,tags] fields timestamp\n`, one space between sections, the
//! timestamp in nanoseconds (the receive time when the line had none). Bad lines are
//! counted and skipped; the first one is reported. No allocation per line.

use crate::error::{ErrorKind, LineError};
use crate::precision::Precision;

/// InfluxDB's smallest and largest timestamps, in nanoseconds.
const MIN_NANOS: i64 = i64::MIN + 2;
const MAX_NANOS: i64 = i64::MAX - 1;

/// What a call to [`canonicalize`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Points written to the output.
    pub points: usize,
    /// Lines rejected.
    pub dropped: usize,
    /// The first rejected line and why.
    pub first_error: Option<LineError>,
}

/// Validates `input` and appends its points to `out` in canonical form.
///
/// ```
/// use sluice_lineproto::{canonicalize, Precision};
/// let mut out = Vec::new();
/// let s = canonicalize(b"cpu,host=a  v=1 17\r\n# note\nbad\n", Precision::Second, 0, &mut out);
/// assert_eq!(out, b"cpu,host=a v=1 17000000000\n");
/// assert_eq!((s.points, s.dropped), (1, 1));
/// ```
pub fn canonicalize(
    input: &[u8],
    precision: Precision,
    receive_time_ns: i64,
    out: &mut Vec<u8>,
) -> Summary {
    let unit = precision.nanos();
    let default_ts = receive_time_ns - receive_time_ns.rem_euclid(unit);
    let mut summary = Summary::default();
    let n = input.len();
    let mut pos = 0;
    let mut line = 0;
    out.reserve(input.len() + input.len() / 8);
    while pos < n {
        line += 1;
        let line_start = pos;
        while pos < n && matches!(input[pos], b' ' | b'\t') {
            pos += 1;
        }
        if pos >= n {
            break;
        }
        match input[pos] {
            b'\n' => {
                pos += 1;
                continue;
            }
            b'\r' if pos + 1 >= n || input[pos + 1] == b'\n' => {
                pos += 2;
                continue;
            }
            b'#' => {
                pos = next_line(input, pos);
                continue;
            }
            _ => {}
        }
        match parse_point(input, pos) {
            Ok(p) => {
                let ts = match p.timestamp {
                    None => Ok(default_ts),
                    Some(t) => t
                        .checked_mul(unit)
                        .filter(|t| (MIN_NANOS..=MAX_NANOS).contains(t))
                        .ok_or(ErrorKind::TimeOutsideRange),
                };
                match ts {
                    Ok(ts) => {
                        out.extend_from_slice(&input[pos..p.key_end]);
                        out.push(b' ');
                        out.extend_from_slice(&input[p.fields_start..p.fields_end]);
                        out.push(b' ');
                        write_i64(out, ts);
                        out.push(b'\n');
                        summary.points += 1;
                    }
                    Err(kind) => reject(
                        &mut summary,
                        line,
                        kind,
                        &input[pos..line_end(input, p.next)],
                    ),
                }
                if p.multiline {
                    line += input[pos..p.fields_end]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                }
                pos = p.next;
            }
            Err((kind, at)) => {
                let next = next_line(input, at.min(n));
                reject(
                    &mut summary,
                    line,
                    kind,
                    &input[line_start..line_end(input, next)],
                );
                line += input[pos..at.min(n)]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                pos = next;
            }
        }
    }
    summary
}

fn reject(summary: &mut Summary, line: usize, kind: ErrorKind, raw: &[u8]) {
    summary.dropped += 1;
    if summary.first_error.is_none() {
        let raw = raw.trim_ascii();
        summary.first_error = Some(LineError::new(line, kind, raw));
    }
}

/// Index just past the next `\n` at or after `from` (or the end).
fn next_line(input: &[u8], from: usize) -> usize {
    match input[from..].iter().position(|&b| b == b'\n') {
        Some(i) => from + i + 1,
        None => input.len(),
    }
}

/// End of a line's text given the index just past it (drops `\n` and `\r`).
fn line_end(input: &[u8], next: usize) -> usize {
    let mut end = next;
    while end > 0 && matches!(input[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

/// Byte offsets of one parsed point.
struct Parsed {
    /// End of the measurement and tag set.
    key_end: usize,
    fields_start: usize,
    fields_end: usize,
    timestamp: Option<i64>,
    /// Where the next line starts.
    next: usize,
    /// A string field spans lines.
    multiline: bool,
}

type Failure = (ErrorKind, usize);

#[inline]
fn is_line_end(b: &[u8], i: usize) -> bool {
    i >= b.len() || b[i] == b'\n' || (b[i] == b'\r' && (i + 1 >= b.len() || b[i + 1] == b'\n'))
}

/// Advances past a backslash escape; a backslash before a line end is literal.
#[inline]
fn skip_escape(b: &[u8], i: usize) -> usize {
    if i + 1 < b.len() && b[i + 1] != b'\n' {
        i + 2
    } else {
        i + 1
    }
}

fn parse_point(b: &[u8], start: usize) -> Result<Parsed, Failure> {
    let n = b.len();
    let mut i = start;
    // Measurement.
    loop {
        if i >= n {
            return Err((ErrorKind::MissingFields, i));
        }
        match b[i] {
            b'\\' => i = skip_escape(b, i),
            b',' | b' ' => break,
            b'\n' => return Err((ErrorKind::MissingFields, i)),
            b'\r' if is_line_end(b, i) => return Err((ErrorKind::MissingFields, i)),
            _ => i += 1,
        }
    }
    if i == start {
        return Err((ErrorKind::MissingMeasurement, i));
    }
    // Tag set.
    while i < n && b[i] == b',' {
        i += 1;
        let key = i;
        loop {
            if i >= n {
                return Err((ErrorKind::InvalidTagFormat, i));
            }
            match b[i] {
                b'\\' => i = skip_escape(b, i),
                b'=' => break,
                b',' | b' ' | b'\n' => return Err((ErrorKind::InvalidTagFormat, i)),
                _ => i += 1,
            }
        }
        if i == key {
            return Err((ErrorKind::MissingTagKey, i));
        }
        i += 1;
        let value = i;
        while i < n {
            match b[i] {
                b'\\' => i = skip_escape(b, i),
                b',' | b' ' | b'\n' => break,
                b'\r' if is_line_end(b, i) => break,
                _ => i += 1,
            }
        }
        if i == value {
            return Err((ErrorKind::MissingTagValue, i));
        }
    }
    let key_end = i;
    if i >= n || b[i] != b' ' {
        return Err((ErrorKind::MissingFields, i));
    }
    while i < n && b[i] == b' ' {
        i += 1;
    }
    if is_line_end(b, i) {
        return Err((ErrorKind::MissingFields, i));
    }
    // Field set.
    let fields_start = i;
    let mut multiline = false;
    loop {
        let key = i;
        loop {
            if i >= n {
                return Err((ErrorKind::MissingFieldValue, i));
            }
            match b[i] {
                b'\\' => i = skip_escape(b, i),
                b'=' => break,
                b',' | b' ' | b'\n' | b'\r' => {
                    let kind = if i == key {
                        ErrorKind::MissingFieldKey
                    } else {
                        ErrorKind::InvalidFieldFormat
                    };
                    return Err((kind, i));
                }
                _ => i += 1,
            }
        }
        if i == key {
            return Err((ErrorKind::MissingFieldKey, i));
        }
        if &b[key..i] == b"time" {
            return Err((ErrorKind::InvalidFieldNameTime, i));
        }
        i += 1;
        if i >= n {
            return Err((ErrorKind::MissingFieldValue, i));
        }
        match b[i] {
            b'"' => {
                i += 1;
                loop {
                    if i >= n {
                        return Err((ErrorKind::UnbalancedQuotes, i));
                    }
                    match b[i] {
                        b'\\' => i = (i + 2).min(n),
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' => {
                            multiline = true;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            b' ' | b',' | b'\n' | b'\r' => return Err((ErrorKind::MissingFieldValue, i)),
            _ => {
                let value = i;
                while i < n && !matches!(b[i], b',' | b' ' | b'\n' | b'\r') {
                    i += 1;
                }
                check_value(&b[value..i]).map_err(|kind| (kind, i))?;
            }
        }
        if i >= n {
            break;
        }
        match b[i] {
            b',' => i += 1,
            b' ' | b'\n' => break,
            b'\r' if is_line_end(b, i) => break,
            _ => return Err((ErrorKind::InvalidFieldFormat, i)),
        }
    }
    let fields_end = i;
    // Timestamp.
    while i < n && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let mut timestamp = None;
    if !is_line_end(b, i) {
        let (t, after) = parse_timestamp(b, i)?;
        timestamp = Some(t);
        i = after;
        while i < n && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if !is_line_end(b, i) {
            return Err((ErrorKind::BadTimestamp, i));
        }
    }
    let next = if i >= n {
        n
    } else if b[i] == b'\r' {
        (i + 2).min(n)
    } else {
        i + 1
    };
    Ok(Parsed {
        key_end,
        fields_start,
        fields_end,
        timestamp,
        next,
        multiline,
    })
}

fn parse_timestamp(b: &[u8], start: usize) -> Result<(i64, usize), Failure> {
    let mut i = start;
    let negative = b[i] == b'-';
    if negative {
        i += 1;
    }
    let digits = i;
    let mut value: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = i64::from(b[i] - b'0');
        value = value
            .checked_mul(10)
            .and_then(|v| {
                if negative {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            })
            .ok_or((ErrorKind::TimeOutsideRange, i))?;
        i += 1;
    }
    if i == digits || (i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r')) {
        return Err((ErrorKind::BadTimestamp, i));
    }
    Ok((value, i))
}

/// Validates an unquoted field value: float, `i` integer, `u` unsigned, or boolean.
fn check_value(v: &[u8]) -> Result<(), ErrorKind> {
    match v.first() {
        Some(b't' | b'T' | b'f' | b'F') => {
            return match v {
                b"t" | b"T" | b"true" | b"True" | b"TRUE" | b"f" | b"F" | b"false" | b"False"
                | b"FALSE" => Ok(()),
                _ => Err(ErrorKind::InvalidBoolean),
            };
        }
        None => return Err(ErrorKind::MissingFieldValue),
        _ => {}
    }
    match v.last() {
        Some(b'i') => check_integer(&v[..v.len() - 1], true),
        Some(b'u') => check_integer(&v[..v.len() - 1], false),
        _ => check_float(v),
    }
}

fn check_integer(v: &[u8], signed: bool) -> Result<(), ErrorKind> {
    let (negative, digits) = match v.first() {
        Some(b'-') if signed => (true, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ErrorKind::InvalidNumber);
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(d - b'0')))
            .ok_or(ErrorKind::ValueOutOfRange)?;
    }
    let limit = match (signed, negative) {
        (false, _) => u64::MAX,
        (true, false) => i64::MAX as u64,
        (true, true) => i64::MAX as u64 + 1,
    };
    if value > limit {
        Err(ErrorKind::ValueOutOfRange)
    } else {
        Ok(())
    }
}

fn check_float(v: &[u8]) -> Result<(), ErrorKind> {
    let mut i = 0;
    if v.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < v.len() && v[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < v.len() && v[i] == b'.' {
        i += 1;
        let frac = i;
        while i < v.len() && v[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac;
    }
    if digits == 0 {
        return Err(ErrorKind::InvalidNumber);
    }
    if i < v.len() && matches!(v[i], b'e' | b'E') {
        i += 1;
        if i < v.len() && matches!(v[i], b'+' | b'-') {
            i += 1;
        }
        let exp = i;
        while i < v.len() && v[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp {
            return Err(ErrorKind::InvalidNumber);
        }
    }
    if i == v.len() {
        Ok(())
    } else {
        Err(ErrorKind::InvalidNumber)
    }
}

/// Appends the decimal form of `v`.
fn write_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests;
