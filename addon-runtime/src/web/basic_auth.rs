//! Basic auth as every marketplace's calls carry it: `Authorization: Basic base64(user:password)`
//! checked against the one pair of credentials a marketplace was given. Each adapter wraps it
//! with its own refusal.

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The expected credentials, kept as the digest of their token: the comparison takes the same
/// time whatever the length or content of what the caller sent.
///
/// Basic auth's token is the standard base64 of `user:password`, padded, and padded base64 has
/// exactly one encoding per text (the decoder refuses any other), so comparing the tokens is
/// comparing the credentials, without decoding what was sent.
#[derive(Clone)]
pub(crate) struct BasicCredentials {
    expected: [u8; 32],
}

impl BasicCredentials {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self { expected: Sha256::digest(token).into() }
    }

    /// Whether an `Authorization` header value carries the right user and password.
    pub(crate) fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(token) = header.and_then(token) else { return false };
        let sent: [u8; 32] = Sha256::digest(token).into();
        bool::from(sent.ct_eq(&self.expected))
    }
}

/// The `WWW-Authenticate` value a refusal carries: `Basic realm="<realm>"`.
pub(crate) fn challenge(realm: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

/// The token of `Basic <token>`, with the scheme in any case.
fn token(value: &HeaderValue) -> Option<&[u8]> {
    let value = value.as_bytes().trim_ascii();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, token) = (&value[..space], &value[space + 1..]);
    scheme.eq_ignore_ascii_case(b"basic").then(|| token.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn the_documented_example() {
        let auth = BasicCredentials::new("addon-slug", "super-secret");
        assert!(auth.accepts(Some(&header("Basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
        assert!(auth.accepts(Some(&header("basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
    }

    /// Padded base64 has one encoding per text; any other is refused, as a decoder refuses it.
    #[test]
    fn only_the_one_encoding() {
        let auth = BasicCredentials::new("addon-slug", "super-secret");
        assert!(auth.accepts(Some(&header("  BASIC   YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ=  "))));
        assert!(!auth.accepts(Some(&header("Basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ"))));
        assert!(!auth.accepts(Some(&header("Basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXR="))));
        assert!(!auth.accepts(Some(&header("Basic\tYWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
        assert!(!auth.accepts(Some(&header("BasicYWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
    }

    #[test]
    fn refusals() {
        let auth = BasicCredentials::new("addon-slug", "super-secret");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(!auth.accepts(None));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("addon-slug:wrong"))))));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("other:super-secret"))))));
        assert!(!auth.accepts(Some(&header(&format!("Bearer {}", b64("addon-slug:super-secret"))))));
        assert!(!auth.accepts(Some(&header("Basic !!!"))));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("addon-slugsuper-secret"))))));
    }
}
