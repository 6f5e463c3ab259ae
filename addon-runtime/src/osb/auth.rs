//! Every OSB route's checks, before anything else: Basic auth with the platform's credentials
//! (compared in constant time, as digests), then `X-Broker-API-Version` (major version 2, else
//! 412), then the request's identity (`X-Broker-API-Request-Identity`) logged.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;

use super::reply;
use crate::base::answer::{escaped, AddonError};
use crate::web::basic_auth::BasicCredentials;
use crate::web::gate::Gate;

pub(crate) const VERSION_HEADER: &str = "x-broker-api-version";
pub(crate) const REQUEST_IDENTITY_HEADER: &str = "x-broker-api-request-identity";
pub(crate) const ORIGINATING_IDENTITY_HEADER: &str = "x-broker-api-originating-identity";

/// The gate of every OSB route: the platform's credentials, the version, then the body read
/// whole within `body_limit`.
pub(crate) fn gate(user: &str, password: &str, body_limit: usize) -> Gate {
    let refuse = || reply::refuse(AddonError::osb_unauthenticated());
    let challenge = HeaderValue::from_static("Basic realm=\"osb\"");
    Gate::basic(BasicCredentials::new(user, password), challenge, refuse, Some(version), body_limit)
}

/// Whether the header names a version this broker speaks: `2.<minor>`.
pub(crate) fn supported(version: &str) -> bool {
    match version.trim().split_once('.') {
        Some((major, minor)) => {
            major == "2" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A version this broker speaks (else the refusal), and the request's identity logged.
fn version(request: &Request) -> Option<Response> {
    let sent = request.headers().get(VERSION_HEADER).map(|v| v.to_str().unwrap_or("(not text)"));
    if !sent.is_some_and(supported) {
        return Some(reply::refuse(AddonError::osb_version_unsupported(sent)));
    }
    if let Some(identity) = request.headers().get(REQUEST_IDENTITY_HEADER).and_then(|v| v.to_str().ok()) {
        let identity: String = identity.chars().take(128).collect();
        tracing::info!(
            request_identity = %escaped(&identity),
            method = %request.method(),
            path = %escaped(request.uri().path()),
            "OSB request"
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn versions() {
        for good in ["2.17", "2.13", "2.0", " 2.14 "] {
            assert!(supported(good), "{good}");
        }
        for bad in ["", "2", "3.0", "1.9", "2.x", "v2.17", "2.17.1"] {
            assert!(!supported(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// No header value panics either check, and only the right credentials pass.
        #[test]
        fn any_header_is_judged_without_panicking(text in ".{0,200}", user in "[a-z]{1,12}", password in ".{0,40}") {
            let _ = supported(&text);
            let auth = BasicCredentials::new("broker", "s3cret");
            if let Ok(value) = HeaderValue::from_str(&text) {
                proptest::prop_assert!(!auth.accepts(Some(&value)));
            }
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let sent = HeaderValue::from_str(&format!("Basic {encoded}")).unwrap();
            proptest::prop_assert_eq!(auth.accepts(Some(&sent)), user == "broker" && password == "s3cret");
        }
    }

    #[test]
    fn credentials() {
        let auth = BasicCredentials::new("broker", "s3cret");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let header = |s: String| HeaderValue::from_str(&s).unwrap();
        assert!(auth.accepts(Some(&header(format!("Basic {}", b64("broker:s3cret"))))));
        assert!(!auth.accepts(Some(&header(format!("Basic {}", b64("broker:wrong"))))));
        assert!(!auth.accepts(Some(&header(format!("Basic {}", b64("brokers3cret"))))));
        assert!(!auth.accepts(None));
    }
}
