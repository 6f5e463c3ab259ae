//! Basic auth with the listing's slug and `ADDON_DO_PASSWORD`, checked before anything else so
//! that an unauthenticated caller learns nothing (not even whether a resource exists).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base::answer::AddonError;
use crate::web::body;

/// The expected credentials as a digest, so the comparison takes the same time whatever the
/// length or content of what the caller sent.
pub(super) struct BasicAuth {
    expected: [u8; 32],
    challenge: HeaderValue,
}

impl BasicAuth {
    pub(super) fn new(slug: &str, password: &str) -> Self {
        let challenge = HeaderValue::from_str(&format!("Basic realm=\"{slug}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        Self { expected: digest(slug.as_bytes(), password.as_bytes()), challenge }
    }

    /// Whether an `Authorization` header value carries the right slug and password.
    fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(decoded) = header.and_then(decode) else { return false };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else { return false };
        bool::from(digest(&decoded[..colon], &decoded[colon + 1..]).ct_eq(&self.expected))
    }
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

/// Middleware for the resource and notification routes.
pub(super) async fn require(State(auth): State<Arc<BasicAuth>>, request: Request, next: Next) -> Response {
    if auth.accepts(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    body::drain(request.into_body()).await;
    let mut response = AddonError::digitalocean_unauthenticated().into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, auth.challenge.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_and_password() {
        let auth = BasicAuth::new("sample_app", "password-0123456789");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let header = |s: String| HeaderValue::from_str(&s).unwrap();
        assert!(auth.accepts(Some(&header(format!("Basic {}", b64("sample_app:password-0123456789"))))));
        assert!(auth.accepts(Some(&header(format!("basic {}", b64("sample_app:password-0123456789"))))));
        assert!(!auth.accepts(None));
        assert!(!auth.accepts(Some(&header(format!("Basic {}", b64("sample_app:wrong"))))));
        assert!(!auth.accepts(Some(&header(format!("Basic {}", b64("other:password-0123456789"))))));
        assert!(!auth.accepts(Some(&header(format!("Bearer {}", b64("sample_app:password-0123456789"))))));
        assert!(!auth.accepts(Some(&header("Basic !!!".to_owned()))));
    }
}
