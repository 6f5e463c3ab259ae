//! Hardening headers on pages: the runtime's own (SSO, sign-out, signed-out pages) and, by
//! default, every vendor response that read a [`Session`](crate::Session).
//!
//! A response gets them when the request was marked as a page: the runtime's page routes mark
//! themselves, and the `Session` extractor marks the request it reads. Headers the vendor set
//! itself are kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};

/// The headers pages get, computed once from the settings.
#[derive(Clone, Debug)]
pub(crate) struct PageHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl PageHeaders {
    /// `frame_ancestors` is a CSP source list (checked by the settings); none means nobody may
    /// frame the pages.
    pub(crate) fn new(frame_ancestors: Option<&str>) -> Self {
        let mut headers = vec![
            // Browsers must not guess a type: a JSON answer quoting input never runs as HTML.
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            // Resource ids and SSO paths stay on this site.
            (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
            // Pages about one person's session: never cached, never shared.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        let sources = frame_ancestors.unwrap_or("'none'");
        if let Ok(csp) = HeaderValue::from_str(&format!("frame-ancestors {sources}")) {
            headers.push((header::CONTENT_SECURITY_POLICY, csp));
        }
        // X-Frame-Options, for browsers without CSP, can say only "nobody" or "this origin".
        match sources {
            "'none'" => headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))),
            "'self'" => headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"))),
            _ => {}
        }
        Self { headers }
    }

    pub(crate) fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Set on a request that is a page (a runtime page, or a route that read the session).
#[derive(Clone, Debug, Default)]
pub(crate) struct PageMark(Arc<AtomicBool>);

impl PageMark {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Marks the request these parts belong to, if it passed through the outermost layer
    /// (`web::around`), which adds the headers to its response.
    pub(crate) fn mark(parts: &Parts) {
        if let Some(mark) = parts.extensions.get::<PageMark>() {
            mark.set();
        }
    }
}

/// On the runtime's page routes (SSO, sign-out): marks the request as a page. A layer of its
/// own kind rather than a middleware function: it adds nothing to the route's future.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MarkPage;

impl<S> Layer<S> for MarkPage {
    type Service = Marked<S>;

    fn layer(&self, inner: S) -> Marked<S> {
        Marked(inner)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Marked<S>(S);

impl<S: Service<Request>> Service<Request> for Marked<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> S::Future {
        if let Some(mark) = request.extensions().get::<PageMark>() {
            mark.set();
        }
        self.0.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_policy_follows_the_setting() {
        let find = |pages: &PageHeaders, name: HeaderName| {
            pages.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        let default = PageHeaders::new(None);
        assert_eq!(find(&default, header::X_FRAME_OPTIONS).as_deref(), Some("DENY"));
        assert_eq!(
            find(&default, header::CONTENT_SECURITY_POLICY).as_deref(),
            Some("frame-ancestors 'none'")
        );
        let framed = PageHeaders::new(Some("https://dashboard.example.com"));
        assert_eq!(find(&framed, header::X_FRAME_OPTIONS), None);
        assert_eq!(
            find(&framed, header::CONTENT_SECURITY_POLICY).as_deref(),
            Some("frame-ancestors https://dashboard.example.com")
        );
    }
}
