//! `${VAR}` expansion in string values, so secrets stay out of config files.

use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// Replaces every `${NAME}` by the environment variable `NAME`; `$$` is a literal `$`.
pub(super) fn expand_str(input: &str) -> Result<String, String> {
    expand_str_with(input, &|name| std::env::var(name).ok())
}

/// [`expand_str`] with variables looked up by `lookup` (tests pass a map, since setting
/// the process environment is unsafe while other test threads read it).
fn expand_str_with(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {input:?}"))?;
            let name = &body[..end];
            let value =
                lookup(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn expand<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = String::deserialize(d)?;
    expand_str(&raw).map_err(serde::de::Error::custom)
}

pub(super) fn expand_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = String::deserialize(d)?;
    expand_str(&raw).map(Some).map_err(serde::de::Error::custom)
}

pub(super) fn expand_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    raw.iter()
        .map(|s| expand_str(s))
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

pub(super) fn expand_path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    expand(d).map(PathBuf::from)
}

pub(super) fn expand_opt_path<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<PathBuf>, D::Error> {
    expand(d).map(|s| Some(PathBuf::from(s)))
}

/// A TOML table whose string values (in nested tables and arrays too) are expanded;
/// keys are kept as written. An unset variable names the offending value's path.
pub(super) fn expand_table<'de, D: Deserializer<'de>>(d: D) -> Result<toml::Table, D::Error> {
    let mut table = toml::Table::deserialize(d)?;
    for (key, value) in table.iter_mut() {
        expand_value(value, &|name| std::env::var(name).ok())
            .map_err(|e| serde::de::Error::custom(format!("config.{key}: {e}")))?;
    }
    Ok(table)
}

/// Expands every string inside `value`, in place.
fn expand_value(
    value: &mut toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    match value {
        toml::Value::String(s) => *s = expand_str_with(s, lookup)?,
        toml::Value::Array(items) => {
            for item in items {
                expand_value(item, lookup)?;
            }
        }
        toml::Value::Table(table) => {
            for (_, item) in table.iter_mut() {
                expand_value(item, lookup)?;
            }
        }
        toml::Value::Integer(_)
        | toml::Value::Float(_)
        | toml::Value::Boolean(_)
        | toml::Value::Datetime(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{expand_str, expand_value};

    /// The environment of these tests: only `DEDUP_KEY` is set.
    fn env(name: &str) -> Option<String> {
        (name == "DEDUP_KEY").then(|| "s3cret".to_owned())
    }

    #[test]
    fn expands_strings_inside_nested_tables_and_arrays() {
        // ts-dedup's config as an operator writes it.
        let mut value: toml::Value = toml::from_str(
            r#"
key = "${DEDUP_KEY}"
bits = 20
nested = { inner = "x${DEDUP_KEY}", list = ["${DEDUP_KEY}", 1, { deep = "$$" }] }
"#,
        )
        .unwrap();
        expand_value(&mut value, &env).unwrap();
        assert_eq!(value["key"].as_str(), Some("s3cret"));
        assert_eq!(value["bits"].as_integer(), Some(20));
        assert_eq!(value["nested"]["inner"].as_str(), Some("xs3cret"));
        assert_eq!(value["nested"]["list"][0].as_str(), Some("s3cret"));
        assert_eq!(value["nested"]["list"][2]["deep"].as_str(), Some("$"));
        let mut unset: toml::Value = toml::from_str("k = [\"${OTHER}\"]").unwrap();
        let err = expand_value(&mut unset, &env).unwrap_err();
        assert!(err.contains("OTHER"), "{err}");
    }

    #[test]
    fn expands_variables_and_dollars() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_str("a${PATH}b").unwrap(), format!("a{path}b"));
        assert_eq!(expand_str("cost $$5 and $x").unwrap(), "cost $5 and $x");
        assert!(
            expand_str("${SLUICE_SURELY_UNSET_VAR}")
                .unwrap_err()
                .contains("SLUICE_SURELY_UNSET_VAR")
        );
        assert!(expand_str("${OPEN").is_err());
    }
}
