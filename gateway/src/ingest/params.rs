//! [`Params`]: a query string or form body read as InfluxDB reads it (Go's
//! `url.ParseQuery` and `url.Values.Get`): the first value of a repeated key wins, a key
//! without `=` has an empty value, and a pair with a malformed `%` escape is left out
//! (it never fails the request).

/// The decoded `key=value` pairs of a query string, in order.
#[derive(Debug, Default)]
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The pairs of `raw` (a query string without its `?`, or an
    /// `application/x-www-form-urlencoded` body), percent- and `+`-decoded; pairs with a
    /// malformed escape are left out.
    pub(super) fn parse(raw: &[u8]) -> Self {
        Self(
            raw.split(|&b| b == b'&')
                .filter(|pair| well_escaped(pair))
                .flat_map(form_urlencoded::parse)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// `self` followed by `more` (a form body after the query string: the query
    /// string's values come first, as `Request.FormValue` has them).
    pub(super) fn extend(&mut self, more: Params) {
        self.0.extend(more.0);
    }

    /// The query string of every pair whose key is not one of `keys`, encoded again.
    pub(super) fn without(&self, keys: &[&str]) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter().filter(|(k, _)| !keys.contains(&k.as_str())))
            .finish()
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
fn well_escaped(b: &[u8]) -> bool {
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
        let p = Params::parse(b"db=a&db=b&rp=&precision=s&u=x+y&flag");
        assert_eq!(p.get("db"), Some("a"));
        assert_eq!(p.non_empty("rp"), None);
        assert_eq!(p.get("rp"), Some(""));
        assert_eq!(p.get("u"), Some("x y"));
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("missing"), None);
        assert_eq!(Params::parse(b"").get("db"), None);
    }

    #[test]
    fn a_pair_with_a_malformed_escape_is_left_out() {
        let p = Params::parse(b"db=a%zz&rp=r%2Fx&db=b&precision=%");
        assert_eq!(p.get("db"), Some("b"));
        assert_eq!(p.get("rp"), Some("r/x"));
        assert_eq!(p.get("precision"), None);
    }

    #[test]
    fn forms_decode_and_reencode() {
        let mut p = Params::parse(b"q=CREATE+DATABASE+%22a%22&db=&x&u=me");
        p.extend(Params::parse(b"q=second&p=secret"));
        assert_eq!(p.get("q"), Some("CREATE DATABASE \"a\""));
        assert_eq!(p.get("db"), Some(""));
        assert_eq!(p.get("x"), Some(""));
        assert_eq!(p.get("p"), Some("secret"));
        assert_eq!(
            p.without(&["u", "p"]),
            "q=CREATE+DATABASE+%22a%22&db=&x=&q=second"
        );
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
