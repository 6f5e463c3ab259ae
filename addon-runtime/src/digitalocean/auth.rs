//! Basic auth with the listing's slug and `ADDON_DO_PASSWORD`, checked before anything else so
//! that an unauthenticated caller learns nothing (not even whether a resource exists).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::answer::AddonError;
use crate::web::basic_auth::{self, BasicCredentials};
use crate::web::body;

/// The listing's slug and password, and the challenge a refusal carries.
pub(super) struct BasicAuth {
    credentials: BasicCredentials,
    challenge: HeaderValue,
}

impl BasicAuth {
    pub(super) fn new(slug: &str, password: &str) -> Self {
        Self { credentials: BasicCredentials::new(slug, password), challenge: basic_auth::challenge(slug) }
    }

    /// Whether an `Authorization` header value carries the right slug and password.
    fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        self.credentials.accepts(header)
    }
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
    use base64::Engine;

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
