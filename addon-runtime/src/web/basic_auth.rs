//! Basic auth as every marketplace's calls carry it: `Authorization: Basic base64(user:password)`
//! checked against the one pair of credentials a marketplace was given. Each adapter wraps it
//! with its own refusal.

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The expected credentials, kept as a digest so the comparison takes the same time whatever
/// the length or content of what the caller sent.
#[derive(Clone)]
pub(crate) struct BasicCredentials {
    expected: [u8; 32],
}

impl BasicCredentials {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        Self { expected: digest(user.as_bytes(), password.as_bytes()) }
    }

    /// Whether an `Authorization` header value carries the right user and password.
    pub(crate) fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(decoded) = header.and_then(decode) else { return false };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else { return false };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        bool::from(digest(user, password).ct_eq(&self.expected))
    }
}

/// The `WWW-Authenticate` value a refusal carries: `Basic realm="<realm>"`.
pub(crate) fn challenge(realm: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

fn digest(user: &[u8], password: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(user);
    hasher.update([0]);
    hasher.update(password);
    hasher.finalize().into()
}

/// The decoded `user:password` of `Basic <base64(user:password)>`, with the scheme in any case.
fn decode(value: &HeaderValue) -> Option<Vec<u8>> {
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()
}
