//! [`Params`]: a write's query string read as InfluxDB reads it (Go's `url.ParseQuery`
//! and `url.Values.Get`): the first value of a repeated key wins, a key without `=` has
//! an empty value, and a pair with a malformed `%` escape is left out (it never fails
//! the request).

/// The decoded `key=value` pairs of a query string, in order.
#[derive(Debug, Default)]
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The pairs of `raw` (the part after `?`, if any), percent- and `+`-decoded; pairs
    /// with a malformed escape are left out.
    pub(super) fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.unwrap_or_default()
                .split('&')
                .filter(|pair| well_escaped(pair))
                .flat_map(|pair| form_urlencoded::parse(pair.as_bytes()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`, if the query string has it.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`, `None` when absent or empty (InfluxDB treats both
    /// alike).
    pub(super) fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

/// Whether every `%` in `pair` starts an escape of two hex digits (Go's `unescape`
/// refuses the pair otherwise).
fn well_escaped(pair: &str) -> bool {
    let b = pair.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// Whether `level` is a consistency level InfluxDB 1.x accepts on `/write` (`any`, `one`,
/// `quorum`, `all`, in any case: `models.ParseConsistencyLevel`); an open-source store
/// ignores the level once it is valid.
pub(super) fn is_consistency_level(level: &str) -> bool {
    ["any", "one", "quorum", "all"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_of_a_repeated_key_wins() {
        let p = Params::parse(Some("db=a&db=b&rp=&precision=s&u=x+y&flag"));
        assert_eq!(p.get("db"), Some("a"));
        assert_eq!(p.non_empty("rp"), None);
        assert_eq!(p.get("rp"), Some(""));
        assert_eq!(p.get("u"), Some("x y"));
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("missing"), None);
        assert_eq!(Params::parse(None).get("db"), None);
    }

    #[test]
    fn a_pair_with_a_malformed_escape_is_left_out() {
        let p = Params::parse(Some("db=a%zz&rp=r%2Fx&db=b&precision=%"));
        assert_eq!(p.get("db"), Some("b"));
        assert_eq!(p.get("rp"), Some("r/x"));
        assert_eq!(p.get("precision"), None);
    }

    #[test]
    fn consistency_levels_are_influxdbs() {
        for level in ["any", "one", "quorum", "all", "ALL", "One"] {
            assert!(is_consistency_level(level), "{level}");
        }
        for level in ["", "bogus", "two"] {
            assert!(!is_consistency_level(level), "{level}");
        }
    }
}
