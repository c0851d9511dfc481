//! [`snapshot`]: everything a database stores, as comparable entries: every point
//! (`SELECT * FROM /<group>/ GROUP BY *`: measurement, tags, time, non-null fields) and
//! the types of the fields of measurements with points (`SHOW FIELD KEYS`), so that two
//! databases fed the same lines two ways can be compared whole.
//!
//! Series and fields without points are left out: influxd 1.x creates them for points it
//! then refuses (a `time` tag, a field type conflict), which is no data. Points are read
//! by groups of measurements (regular expressions the caller gives), because a query over
//! several measurements gives a field the type it has in any of them, and such refused
//! points leave different field types behind in databases that otherwise store the same.

use crate::influxd::TestInflux;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Entries of a database: a key (what is stored where) and its content.
pub type Snapshot = BTreeMap<Entry, String>;

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The measurement.
    pub measurement: String,
    /// The rest of the entry's identity: `field <key>` or `point <tags> <time>`.
    pub what: String,
}

/// Statements sent in one query request.
const STATEMENTS_PER_QUERY: usize = 200;

/// Reads everything `db` of `influx` stores, querying the measurements that match each of
/// `groups` (regular expressions, without slashes) on their own. Times inside
/// `receive_times` (points that got the receive time of whoever wrote them) are written
/// `recv`, so that databases written at different moments compare equal.
///
/// # Errors
/// A query that failed, quoted.
pub fn snapshot(
    influx: &TestInflux,
    db: &str,
    groups: &[String],
    receive_times: &Range<i64>,
) -> Result<Snapshot, String> {
    let mut out = Snapshot::new();
    for chunk in groups.chunks(STATEMENTS_PER_QUERY) {
        let statements: Vec<String> = chunk
            .iter()
            .map(|group| format!("SELECT * FROM /{group}/ GROUP BY *"))
            .collect();
        let result = influx.query(&statements.join(";"), db);
        let statements = result["results"]
            .as_array()
            .ok_or_else(|| format!("SELECT: {result}"))?;
        for statement in statements {
            if statement.get("error").is_some() {
                return Err(format!("SELECT: {statement}"));
            }
            for series in series_of(statement) {
                add_points(series, receive_times, &mut out);
            }
        }
    }
    let with_points: BTreeSet<String> = out.keys().map(|e| e.measurement.clone()).collect();
    let fields = influx.query("SHOW FIELD KEYS", db);
    let statement = fields
        .pointer("/results/0")
        .filter(|s| s.get("error").is_none())
        .ok_or_else(|| format!("SHOW FIELD KEYS: {fields}"))?;
    for series in series_of(statement) {
        let name = series["name"].as_str().unwrap_or_default();
        if !with_points.contains(name) {
            continue;
        }
        for row in rows(series) {
            let key = row.first().map(Value::to_string).unwrap_or_default();
            let ty = row.get(1).map(Value::to_string).unwrap_or_default();
            out.insert(entry(name, format!("field {key}")), ty);
        }
    }
    Ok(out)
}

/// Adds the points of one series of a `SELECT * … GROUP BY *` result to `out`.
fn add_points(series: &Value, receive_times: &Range<i64>, out: &mut Snapshot) {
    let name = series["name"].as_str().unwrap_or_default();
    // GROUP BY * over several measurements lists every tag key of them all: keep the
    // point's own (non-empty) tags.
    let tags: BTreeMap<&String, &Value> = series
        .get("tags")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_str() != Some(""))
        .collect();
    let tags = serde_json::to_string(&tags).unwrap_or_default();
    let columns: Vec<&str> = series["columns"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for row in rows(series) {
        let time = match row.first().and_then(Value::as_i64) {
            Some(t) if receive_times.contains(&t) => "recv".to_owned(),
            Some(t) => t.to_string(),
            None => "?".to_owned(),
        };
        let values: BTreeMap<&str, String> = columns
            .iter()
            .zip(row)
            .skip(1)
            .filter(|(_, v)| !v.is_null())
            .map(|(c, v)| (*c, v.to_string()))
            .collect();
        let values = serde_json::to_string(&values).unwrap_or_default();
        out.insert(entry(name, format!("point {tags} {time}")), values);
    }
}

/// The differences between two snapshots, one line each (at most `limit`), and how many
/// there are.
pub fn differences(a: &Snapshot, b: &Snapshot, limit: usize) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut count = 0;
    let mut note = |line: String| {
        count += 1;
        if lines.len() < limit {
            lines.push(line);
        }
    };
    for (key, value) in a {
        match b.get(key) {
            None => note(format!("only in the first: {key:?} = {value}")),
            Some(other) if other != value => {
                note(format!("differs: {key:?}: {value} vs {other}"));
            }
            Some(_) => {}
        }
    }
    for (key, value) in b {
        if !a.contains_key(key) {
            note(format!("only in the second: {key:?} = {value}"));
        }
    }
    (lines, count)
}

/// An entry.
fn entry(measurement: &str, what: String) -> Entry {
    Entry {
        measurement: measurement.to_owned(),
        what,
    }
}

/// The series of one statement's result.
fn series_of(statement: &Value) -> impl Iterator<Item = &Value> {
    statement["series"].as_array().into_iter().flatten()
}

/// The rows of a series.
fn rows(series: &Value) -> impl Iterator<Item = &Vec<Value>> {
    series["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_what_differs() {
        let mut a = Snapshot::new();
        a.insert(entry("m", "field \"v\"".into()), "float".into());
        a.insert(entry("m", "point {} 1".into()), "{\"v\":1}".into());
        let mut b = a.clone();
        assert_eq!(differences(&a, &b, 10).1, 0);
        b.insert(entry("m", "point {} 1".into()), "{\"v\":2}".into());
        b.insert(entry("n", "field \"v\"".into()), "float".into());
        let (lines, count) = differences(&a, &b, 1);
        assert_eq!((lines.len(), count), (1, 2));
    }
}
