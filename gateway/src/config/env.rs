//! `${VAR}` expansion in string values, so secrets stay out of config files.

use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// Replaces every `${NAME}` by the environment variable `NAME`; `$$` is a literal `$`.
pub(super) fn expand_str(input: &str) -> Result<String, String> {
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
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?;
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

#[cfg(test)]
mod tests {
    use super::expand_str;

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
