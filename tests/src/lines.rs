//! Points as the tests think of them, their line-protocol encoding (with every escape), and
//! the generated loads the tests send.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A field value with its InfluxDB type.
#[derive(Debug, Clone)]
pub enum FieldValue {
    /// `42i`
    Int(i64),
    /// `4.2`
    Float(f64),
    /// `"text"`
    Str(String),
    /// `true` / `false`
    Bool(bool),
}

impl FieldValue {
    fn rank(&self) -> u8 {
        match self {
            FieldValue::Int(_) => 0,
            FieldValue::Float(_) => 1,
            FieldValue::Str(_) => 2,
            FieldValue::Bool(_) => 3,
        }
    }
}

impl Ord for FieldValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (FieldValue::Int(a), FieldValue::Int(b)) => a.cmp(b),
            (FieldValue::Float(a), FieldValue::Float(b)) => a.total_cmp(b),
            (FieldValue::Str(a), FieldValue::Str(b)) => a.cmp(b),
            (FieldValue::Bool(a), FieldValue::Bool(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for FieldValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FieldValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FieldValue {}

impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Int(v)
    }
}

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Float(v)
    }
}

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(v.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Str(v)
    }
}

impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}

impl fmt::Display for FieldValue {
    /// The line-protocol spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Int(v) => write!(f, "{v}i"),
            // `Display` of f64 is the shortest text that parses back to the same value.
            FieldValue::Float(v) => write!(f, "{v}"),
            FieldValue::Str(v) => write!(f, "\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")),
            FieldValue::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// One point: what a test sends, and what it reads back from InfluxDB.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    /// Unescaped measurement name.
    pub measurement: String,
    /// Nanoseconds since the epoch (first, so sorted points are in time order per series).
    pub time: i64,
    /// Unescaped tag keys and values.
    pub tags: BTreeMap<String, String>,
    /// Unescaped field keys and their values.
    pub fields: BTreeMap<String, FieldValue>,
}

impl Point {
    /// A point with no tags, no fields and time 0.
    pub fn new(measurement: &str) -> Self {
        Point {
            measurement: measurement.to_owned(),
            time: 0,
            tags: BTreeMap::new(),
            fields: BTreeMap::new(),
        }
    }

    /// Adds a tag.
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Adds a field.
    pub fn field(mut self, key: &str, value: impl Into<FieldValue>) -> Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    /// Sets the timestamp (ns).
    pub fn at(mut self, time: i64) -> Self {
        self.time = time;
        self
    }

    /// The line, escaped, with the timestamp divided by `unit_ns` (1 = nanoseconds), without
    /// a newline.
    ///
    /// # Panics
    /// If the time is not a whole number of `unit_ns`.
    pub fn to_line_in(&self, unit_ns: i64) -> String {
        assert_eq!(
            self.time % unit_ns,
            0,
            "time {} is not a multiple of {unit_ns} ns",
            self.time
        );
        format!("{} {}", self.to_line_without_time(), self.time / unit_ns)
    }

    /// The line with a nanosecond timestamp, without a newline.
    pub fn to_line(&self) -> String {
        self.to_line_in(1)
    }

    /// The line without a timestamp (the server picks the receive time).
    pub fn to_line_without_time(&self) -> String {
        let mut line = escape(&self.measurement, &[',', ' ']);
        for (key, value) in &self.tags {
            line.push(',');
            line.push_str(&escape(key, KEY_SPECIALS));
            line.push('=');
            line.push_str(&escape(value, KEY_SPECIALS));
        }
        line.push(' ');
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(key, value)| format!("{}={value}", escape(key, KEY_SPECIALS)))
            .collect();
        line.push_str(&fields.join(","));
        line
    }
}

/// Characters escaped with a backslash in tag keys, tag values and field keys.
const KEY_SPECIALS: &[char] = &[',', '=', ' '];

fn escape(text: &str, specials: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Line protocol for `points`, one line each, ns timestamps, newline-terminated.
pub fn to_lines(points: &[Point]) -> String {
    let mut out = String::new();
    for point in points {
        out.push_str(&point.to_line());
        out.push('\n');
    }
    out
}

/// The acceptance check's load: `n` points of `measurement` with tags `node` (10 values),
/// `label` (50 values), `region`, fields `count` (int), `mean` and `p95` (float), at
/// `start_ns + i`.
pub fn flood_points(n: usize, start_ns: i64, measurement: &str) -> Vec<Point> {
    (0..n)
        .map(|i| {
            let x = i64::try_from(i).unwrap_or(i64::MAX);
            let xf = i as f64;
            Point::new(measurement)
                .tag("node", &format!("node{}", i % 10))
                .tag("label", &format!("tx{}", i % 50))
                .tag("region", "eu")
                .field("count", x)
                .field("mean", xf * 0.5)
                .field("p95", xf * 0.9)
                .at(start_ns + x)
        })
        .collect()
}

/// [`flood_points`] as line protocol.
pub fn flood_lines(n: usize, start_ns: i64, measurement: &str) -> String {
    to_lines(&flood_points(n, start_ns, measurement))
}

/// `n` points of every field type whose names and values need escaping: measurement
/// `mixed stuff`, tag `host name` with commas, a negative int, floats, strings with spaces,
/// commas, `=`, quotes and backslashes, and booleans; at `start_ns + i`.
pub fn mixed_points(n: usize, start_ns: i64) -> Vec<Point> {
    (0..n)
        .map(|i| {
            let x = i64::try_from(i).unwrap_or(i64::MAX);
            let xf = i as f64;
            Point::new("mixed stuff")
                .tag("host name", &format!("h,{} x=y", i % 7))
                .tag("dc", "fra")
                .field("delta", x - 1000)
                .field("ratio", xf / 7.0)
                .field("msg", format!("say \"hi\", #{i} a=b \\ back"))
                .field("ok", i % 3 == 0)
                .at(start_ns + x)
        })
        .collect()
}

/// Hand-written lines whose every escape is spelled out, with what InfluxDB must store.
pub fn escaped_lines() -> (String, Vec<Point>) {
    let text = concat!(
        r#"esc\ m\,x,tag\ k\=y=v\,1\ 2\=3,plain=ü f\ k\,\=="hello, \"world\" x=1",n=-42i,b=t,B=FALSE,fl=-1.5e3 1700000000000000123"#,
        "\n",
        r#"esc\ m\,x,tag\ k\=y=other s="back\\slash and = sign, \"q\"",n=9223372036854775807i,lo=-9223372036854775808i,z=0,T=True 1700000000000000124"#,
        "\n",
        // Tags out of order; the server sorts them.
        r#"esc\ m\,x,zz=1,aa=2 n=7i,e=1.5E-7 1700000000000000125"#,
        "\n",
    );
    let expected = vec![
        Point::new("esc m,x")
            .tag("tag k=y", "v,1 2=3")
            .tag("plain", "ü")
            .field("f k,=", r#"hello, "world" x=1"#)
            .field("n", -42i64)
            .field("b", true)
            .field("B", false)
            .field("fl", -1500.0)
            .at(1_700_000_000_000_000_123),
        Point::new("esc m,x")
            .tag("tag k=y", "other")
            .field("s", r#"back\slash and = sign, "q""#)
            .field("n", i64::MAX)
            .field("lo", i64::MIN)
            .field("z", 0.0)
            .field("T", true)
            .at(1_700_000_000_000_000_124),
        Point::new("esc m,x")
            .tag("zz", "1")
            .tag("aa", "2")
            .field("n", 7i64)
            .field("e", 1.5e-7)
            .at(1_700_000_000_000_000_125),
    ];
    (text.to_owned(), expected)
}

/// Wall-clock time in nanoseconds since the epoch.
///
/// # Panics
/// If the clock is before 1970 or after 2262.
pub fn now_ns() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("clock before the epoch: {e}"));
    i64::try_from(since.as_nanos()).unwrap_or_else(|e| panic!("clock past 2262: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_place() {
        let p = Point::new("m ,x")
            .tag("k =,", "v =,")
            .field("f =,", "a \"b\" \\ c")
            .field("i", -3i64)
            .field("b", true)
            .field("x", 2.0)
            .at(5);
        assert_eq!(
            p.to_line(),
            r#"m\ \,x,k\ \=\,=v\ \=\, b=true,f\ \=\,="a \"b\" \\ c",i=-3i,x=2 5"#
        );
    }

    #[test]
    fn precision_divides_the_time() {
        let p = Point::new("m").field("v", 1i64).at(3_000_000_000);
        assert_eq!(p.to_line_in(1_000_000_000), "m v=1i 3");
    }

    #[test]
    fn flood_matches_the_python_check() {
        assert_eq!(
            flood_lines(2, 10, "flood"),
            "flood,label=tx0,node=node0,region=eu count=0i,mean=0,p95=0 10\n\
             flood,label=tx1,node=node1,region=eu count=1i,mean=0.5,p95=0.9 11\n"
        );
    }

    #[test]
    fn floats_compare_exactly() {
        assert_ne!(FieldValue::Float(0.1 + 0.2), FieldValue::Float(0.3));
        assert_ne!(FieldValue::Int(1), FieldValue::Float(1.0));
    }
}
