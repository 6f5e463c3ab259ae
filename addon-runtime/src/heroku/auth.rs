//! Basic auth with the manifest's id and password, checked before anything else so that an
//! unauthenticated caller learns nothing (not even whether a resource exists).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::answer::AddonError;
use crate::web::basic_auth::{self, BasicCredentials};
use crate::web::body;

/// The manifest's id and password, and the challenge a refusal carries.
#[derive(Clone)]
pub(crate) struct BasicAuth {
    credentials: BasicCredentials,
    challenge: HeaderValue,
}

impl BasicAuth {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        Self { credentials: BasicCredentials::new(user, password), challenge: basic_auth::challenge(user) }
    }

    /// Whether an `Authorization` header value carries the right id and password.
    pub(crate) fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        self.credentials.accepts(header)
    }

    fn refuse(&self) -> Response {
        let mut response = AddonError::unauthenticated().into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, self.challenge.clone());
        response
    }
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
    use base64::Engine;

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
