//! `POST /sso/logout`: ends the session for good and clears its cookie.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::session::SessionContext;
use crate::base::answer::AddonError;
use crate::services::sessions;

/// Records the session as ended (so a copy of the cookie, on another machine or in a stolen
/// backup, stops working too), then clears the cookie. Signing out twice, or without a session,
/// still clears the cookie and answers the same way.
pub(crate) async fn logout(Extension(context): Extension<Arc<SessionContext>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    if is_cross_site(&parts.headers, &context.origin) {
        // Another site cannot sign a user out behind their back.
        return AddonError::cross_site_sign_out().into_response();
    }
    if let Some(Ok(session)) = sessions::read_cookie(&parts, sessions::COOKIE).map(|v| context.keys.verify(v))
    {
        if let Err(unavailable) = context.store.end_session(&session.sid, session.expires_at).await {
            // Clearing only the cookie would leave copies working: better to say it failed.
            return AddonError::from(unavailable).into_response();
        }
        tracing::info!(uuid = %session.uuid, "signed out");
    }
    let mut response = context.signed_out.signed_out(&parts.headers, context.product);
    response.headers_mut().append(header::SET_COOKIE, context.keys.clear());
    response
}

/// Whether the sign-out was posted from another site. Browsers say where a request comes from
/// in `Sec-Fetch-Site` (recent ones), in `Origin` (on every cross-origin POST), or in `Referer`
/// (older ones); programs send none of them and are let through. A sibling site (`same-site`,
/// another app on the same parent domain) counts as another site.
fn is_cross_site(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.as_bytes();
        if site.eq_ignore_ascii_case(b"cross-site") || site.eq_ignore_ascii_case(b"same-site") {
            return true;
        }
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let from = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER));
    match from {
        None => false,
        Some(from) => match from.to_str().ok().and_then(authority) {
            // Ours if it names the host the request was sent to, or the public origin.
            Some(from) => {
                let ours = host.is_some_and(|host| from.eq_ignore_ascii_case(host))
                    || authority(public_origin).is_some_and(|public| from.eq_ignore_ascii_case(public));
                !ours
            }
            // `Origin: null` (a sandboxed frame, a redirect chain) or a value that is not a URL.
            None => true,
        },
    }
}

/// The `host[:port]` of an `http(s)://` URL or origin.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn where_a_sign_out_comes_from() {
        let public = "https://logs.acme.example";
        let host = ("host", "logs.acme.example");
        assert!(!is_cross_site(&headers(&[host]), public));
        assert!(!is_cross_site(&headers(&[host, ("origin", "https://logs.acme.example")]), public));
        assert!(is_cross_site(&headers(&[host, ("origin", "https://evil.example")]), public));
        assert!(is_cross_site(&headers(&[host, ("origin", "null")]), public));
        assert!(is_cross_site(&headers(&[host, ("referer", "https://evil.example/page")]), public));
        assert!(!is_cross_site(&headers(&[host, ("referer", "https://logs.acme.example/dash?x")]), public));
        assert!(is_cross_site(&headers(&[host, ("sec-fetch-site", "same-site")]), public));
        assert!(is_cross_site(
            &headers(&[("host", "10.0.0.5"), ("origin", "https://logs.acme.example.evil")]),
            public
        ));
        assert!(!is_cross_site(
            &headers(&[("host", "10.0.0.5:5000"), ("origin", "https://logs.acme.example")]),
            public
        ));
        assert!(is_cross_site(&headers(&[host, ("origin", "https://user@logs.acme.example")]), public));
    }
}
