//! Basic auth with the manifest's id and password, checked before anything else so that an
//! unauthenticated caller learns nothing (not even whether a resource exists).

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

/// The expected credentials, kept as a digest so the comparison takes the same time whatever
/// the length or content of what the caller sent.
#[derive(Clone)]
pub(crate) struct BasicAuth {
    expected: [u8; 32],
    challenge: HeaderValue,
}

impl BasicAuth {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        let challenge = HeaderValue::from_str(&format!("Basic realm=\"{user}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        Self { expected: digest(user.as_bytes(), password.as_bytes()), challenge }
    }

    /// Whether an `Authorization` header value carries the right id and password.
    pub(crate) fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(decoded) = header.and_then(decode) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        bool::from(digest(user, password).ct_eq(&self.expected))
    }

    fn refuse(&self) -> Response {
        let mut response = AddonError::unauthenticated().into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, self.challenge.clone());
        response
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
    let value = value.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()
}

/// Middleware for the resource routes.
pub(crate) async fn require(State(auth): State<Arc<BasicAuth>>, request: Request, next: Next) -> Response {
    if auth.accepts(request.headers().get(header::AUTHORIZATION)) {
        next.run(request).await
    } else {
        body::drain(request.into_body()).await;
        auth.refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn the_documented_example() {
        let auth = BasicAuth::new("addon-slug", "super-secret");
        assert!(auth.accepts(Some(&header("Basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
        assert!(auth.accepts(Some(&header("basic YWRkb24tc2x1ZzpzdXBlci1zZWNyZXQ="))));
    }

    #[test]
    fn refusals() {
        let auth = BasicAuth::new("addon-slug", "super-secret");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(!auth.accepts(None));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("addon-slug:wrong"))))));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("other:super-secret"))))));
        assert!(!auth.accepts(Some(&header(&format!("Bearer {}", b64("addon-slug:super-secret"))))));
        assert!(!auth.accepts(Some(&header("Basic !!!"))));
        assert!(!auth.accepts(Some(&header(&format!("Basic {}", b64("addon-slugsuper-secret"))))));
    }
}
