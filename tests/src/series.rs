//! InfluxQL JSON results (`SELECT * … GROUP BY *` with `epoch=ns`) back into [`Point`]s, and
//! comparisons of point sets that say what is missing and what is extra.

use crate::lines::{FieldValue, Point};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Field types from `SHOW FIELD KEYS` (`{"results":[{"series":[{"values":[[key, type]]}]}]}`).
pub fn field_types(show_field_keys: &Value) -> BTreeMap<String, String> {
    let mut types = BTreeMap::new();
    for series in series_of(show_field_keys) {
        for row in rows_of(series) {
            if let (Some(key), Some(kind)) = (
                row.first().and_then(Value::as_str),
                row.get(1).and_then(Value::as_str),
            ) {
                types.insert(key.to_owned(), kind.to_owned());
            }
        }
    }
    types
}

/// Every point in a `SELECT * FROM "m" GROUP BY *` result, sorted.
///
/// # Errors
/// A statement error, or a value that does not fit its field's type, quoted.
pub fn points_from_select(
    measurement: &str,
    result: &Value,
    types: &BTreeMap<String, String>,
) -> Result<Vec<Point>, String> {
    if let Some(error) = result
        .pointer("/results/0/error")
        .or_else(|| result.get("error"))
    {
        return Err(format!("query error: {error}"));
    }
    let mut points = Vec::new();
    for series in series_of(result) {
        let tags: BTreeMap<String, String> = series
            .get("tags")
            .and_then(Value::as_object)
            .map(|tags| {
                tags.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .filter(|(_, v)| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let columns: Vec<&str> = series
            .get("columns")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for row in rows_of(series) {
            let mut point = Point::new(measurement);
            point.tags = tags.clone();
            for (column, value) in columns.iter().zip(row) {
                if *column == "time" {
                    point.time = value
                        .as_i64()
                        .ok_or_else(|| format!("time {value} is not an integer (epoch=ns?)"))?;
                    continue;
                }
                if value.is_null() {
                    continue;
                }
                match types.get(*column).map(String::as_str) {
                    Some(kind) => {
                        point
                            .fields
                            .insert((*column).to_owned(), typed(column, kind, value)?);
                    }
                    // Not a field: a tag selected as a column.
                    None => {
                        let text = value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned);
                        point.tags.insert((*column).to_owned(), text);
                    }
                }
            }
            points.push(point);
        }
    }
    points.sort();
    Ok(points)
}

fn typed(column: &str, kind: &str, value: &Value) -> Result<FieldValue, String> {
    let converted = match kind {
        "integer" => value.as_i64().map(FieldValue::Int),
        "float" => value.as_f64().map(FieldValue::Float),
        "string" => value.as_str().map(FieldValue::from),
        "boolean" => value.as_bool().map(FieldValue::Bool),
        _ => None,
    };
    converted.ok_or_else(|| format!("field {column:?} of type {kind} holds {value}"))
}

fn series_of(result: &Value) -> impl Iterator<Item = &Value> {
    result
        .pointer("/results/0/series")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn rows_of(series: &Value) -> impl Iterator<Item = &Vec<Value>> {
    series
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
}

/// `None` when `actual` and `expected` hold the same points; otherwise counts and the first
/// few missing and unexpected points.
pub fn diff_summary(actual: &[Point], expected: &[Point]) -> Option<String> {
    let actual: BTreeSet<&Point> = actual.iter().collect();
    let expected: BTreeSet<&Point> = expected.iter().collect();
    if actual == expected {
        return None;
    }
    let missing: Vec<&&Point> = expected.difference(&actual).collect();
    let extra: Vec<&&Point> = actual.difference(&expected).collect();
    Some(format!(
        "{} stored, {} expected; {} missing, e.g. {:#?}\n{} unexpected, e.g. {:#?}",
        actual.len(),
        expected.len(),
        missing.len(),
        &missing[..missing.len().min(3)],
        extra.len(),
        &extra[..extra.len().min(3)],
    ))
}

/// Panics unless every point of `part` is in `whole`, naming the first few that are not.
///
/// # Panics
/// As described; `what` says what the two sets are.
pub fn assert_subset(part: &[Point], whole: &[Point], what: &str) {
    let whole: BTreeSet<&Point> = whole.iter().collect();
    let outside: Vec<&Point> = part.iter().filter(|p| !whole.contains(p)).collect();
    assert!(
        outside.is_empty(),
        "{what}: {} of {} points are outside the expected set, e.g. {:#?}",
        outside.len(),
        part.len(),
        &outside[..outside.len().min(3)]
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tags_typed_fields_and_time() {
        let result = json!({"results":[{"statement_id":0,"series":[{
            "name":"m","tags":{"host":"a"},"columns":["time","f","i","s","b"],
            "values":[[5,2,3,"x",true],[6,2.5,null,"y",false]]}]}]});
        let types = field_types(&json!({"results":[{"series":[{"values":[
            ["f","float"],["i","integer"],["s","string"],["b","boolean"]]}]}]}));
        let points = points_from_select("m", &result, &types).unwrap();
        assert_eq!(
            points,
            vec![
                Point::new("m")
                    .tag("host", "a")
                    .field("f", 2.0)
                    .field("i", 3i64)
                    .field("s", "x")
                    .field("b", true)
                    .at(5),
                Point::new("m")
                    .tag("host", "a")
                    .field("f", 2.5)
                    .field("s", "y")
                    .field("b", false)
                    .at(6),
            ]
        );
    }

    #[test]
    fn diff_names_missing_and_extra() {
        let a = Point::new("m").field("v", 1i64).at(1);
        let b = Point::new("m").field("v", 1i64).at(2);
        let one = std::slice::from_ref(&a);
        assert!(diff_summary(one, one).is_none());
        let diff = diff_summary(one, &[b]).unwrap();
        assert!(
            diff.contains("1 missing") && diff.contains("1 unexpected"),
            "{diff}"
        );
    }
}
