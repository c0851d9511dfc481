//! Token authentication the way InfluxDB clients send credentials: `Authorization: Token
//! T`, `Authorization: Token user:T` (what clients set up for InfluxDB 1.8's 2.x
//! compatibility API send), `Authorization: Basic base64(user:T)`, or `?u=user&p=T` (1.x).

use super::error::IngestError;
use axum::http::{HeaderMap, header};
use base64::Engine;

/// The accepted tokens; empty means authentication is off.
#[derive(Debug, Clone, Default)]
pub struct Tokens(Vec<String>);

impl Tokens {
    /// Accepts any of `tokens`.
    pub fn new(tokens: Vec<String>) -> Self {
        Self(tokens)
    }

    /// Whether authentication is off (no tokens).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when no token is required or the request carries a valid one; else
    /// [`IngestError::NoCredentials`] when it carries none at all (no `p` parameter, no
    /// `Authorization` header), [`IngestError::Unauthorized`] when they are wrong —
    /// InfluxDB 1.x's two 401 answers.
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        query_password: Option<&str>,
    ) -> Result<(), IngestError> {
        let query_password = query_password.filter(|p| !p.is_empty());
        if self.allows(headers, query_password) {
            Ok(())
        } else if query_password.is_none() && !has_credentials_header(headers) {
            Err(IngestError::NoCredentials)
        } else {
            Err(IngestError::Unauthorized)
        }
    }

    /// True when no token is required or the request carries a valid one.
    pub fn allows(&self, headers: &HeaderMap, query_password: Option<&str>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        if let Some(p) = query_password
            && self.contains(p.as_bytes())
        {
            return true;
        }
        header_secret(headers).is_some_and(|secret| {
            self.contains(&secret.bytes)
                || secret
                    .password
                    .as_deref()
                    .is_some_and(|password| self.contains(password))
        })
    }

    fn contains(&self, candidate: &[u8]) -> bool {
        // Compare against every token without an early exit, so timing reveals nothing.
        self.0
            .iter()
            .fold(false, |found, t| found | ct_eq(t.as_bytes(), candidate))
    }
}

/// The secret an `Authorization` header carries: the value of `Token` or `Bearer`, the
/// password of `Basic` (base64 of `user:password`; all of it without a colon).
struct HeaderSecret {
    bytes: Vec<u8>,
    /// For `Token user:password`, the password (InfluxDB 1.8 reads a token as
    /// `username:password`), also accepted as the token.
    password: Option<Vec<u8>>,
    /// Whether InfluxDB 1.x would read it as credentials (`parseCredentials`): a
    /// non-empty token, or Basic with its colon. Else 1.x answers "unable to parse
    /// authentication credentials".
    well_formed: bool,
}

/// The secret of `headers`' `Authorization`, if it has one with a known scheme.
fn header_secret(headers: &HeaderMap) -> Option<HeaderSecret> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        return Some(HeaderSecret {
            bytes: credential.as_bytes().to_vec(),
            password: credential
                .split_once(':')
                .map(|(_, password)| password.as_bytes().to_vec()),
            well_formed: !credential.is_empty(),
        });
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let mut decoded = base64::engine::general_purpose::STANDARD
        .decode(credential)
        .ok()?;
    let colon = decoded.iter().position(|&b| b == b':');
    let well_formed = colon.is_some();
    // The password: what follows the first colon (`i + 1 <= len`).
    let bytes = match colon {
        Some(i) => decoded.split_off(i + 1),
        None => decoded,
    };
    Some(HeaderSecret {
        bytes,
        password: None,
        well_formed,
    })
}

/// Whether `headers` carry an `Authorization` that reads as credentials.
fn has_credentials_header(headers: &HeaderMap) -> bool {
    header_secret(headers).is_some_and(|secret| secret.well_formed)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn schemes() {
        let t = Tokens::new(vec!["s3cret".into()]);
        assert!(t.allows(&with_auth("Token s3cret"), None));
        assert!(t.allows(&with_auth("Bearer s3cret"), None));
        let basic = base64::engine::general_purpose::STANDARD.encode("user:s3cret");
        assert!(t.allows(&with_auth(&format!("Basic {basic}")), None));
        assert!(t.allows(&HeaderMap::new(), Some("s3cret")));
        assert!(!t.allows(&with_auth("Token wrong"), None));
        assert!(!t.allows(&HeaderMap::new(), None));
        assert!(!t.allows(&with_auth("Basic !!!"), None));
        // InfluxDB 1.8's 2.x compatibility: the token is `username:password`.
        assert!(t.allows(&with_auth("Token user:s3cret"), None));
        assert!(t.allows(&with_auth("Token :s3cret"), None));
        assert!(!t.allows(&with_auth("Token s3cret:user"), None));
        // A token that holds a colon itself still matches whole.
        let t = Tokens::new(vec!["a:b".into()]);
        assert!(t.allows(&with_auth("Token a:b"), None));
    }

    #[test]
    fn empty_means_open() {
        assert!(Tokens::default().allows(&HeaderMap::new(), None));
    }
}
