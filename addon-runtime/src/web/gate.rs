//! The gate in front of a marketplace's calls and the forms of its pages, in the order the checks
//! must run: Basic auth first, so that a caller without credentials learns nothing (not even
//! whether a resource exists, or which headers are wanted); then any header the marketplace
//! requires; then the body, read whole within the limit (`web::body`). A refused request's body
//! is read and thrown away before the refusal goes out, so the client gets to read it.
//!
//! One hand-written layer rather than a `from_fn` layer per step: each of those clones the route
//! it wraps and boxes a future of its own, on every request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};

use super::basic_auth::BasicCredentials;
use super::body;

/// A check of the request's head, after auth and before the body: the refusal, if it is refused.
pub(crate) type HeadCheck = fn(&Request) -> Option<Response>;

/// The checks of one group of routes, as a layer (`route_layer`).
#[derive(Clone)]
pub(crate) struct Gate(Arc<Checks>);

struct Checks {
    auth: Option<Auth>,
    head: Option<HeadCheck>,
    body_limit: usize,
}

/// The credentials, and the refusal: the marketplace's shape with a `WWW-Authenticate` challenge.
struct Auth {
    credentials: BasicCredentials,
    challenge: HeaderValue,
    refuse: Box<dyn Fn() -> Response + Send + Sync>,
}

impl Gate {
    /// The body read whole within `body_limit`, and nothing else: a page's form.
    pub(crate) fn body(body_limit: usize) -> Self {
        Self(Arc::new(Checks { auth: None, head: None, body_limit }))
    }

    /// Basic auth with `credentials` (a refusal is what `refuse` writes, with `challenge` as its
    /// `WWW-Authenticate`), then `head` if given, then the body read whole within `body_limit`.
    pub(crate) fn basic(
        credentials: BasicCredentials,
        challenge: HeaderValue,
        refuse: impl Fn() -> Response + Send + Sync + 'static,
        head: Option<HeadCheck>,
        body_limit: usize,
    ) -> Self {
        let auth = Auth { credentials, challenge, refuse: Box::new(refuse) };
        Self(Arc::new(Checks { auth: Some(auth), head, body_limit }))
    }
}

impl Checks {
    /// The request with its body read whole, or the answer that refuses it.
    async fn admit(&self, request: Request) -> Result<Request, Response> {
        if let Some(auth) = &self.auth {
            if !auth.credentials.accepts(request.headers().get(header::AUTHORIZATION)) {
                body::drain(request.into_body()).await;
                let mut refusal = (auth.refuse)();
                refusal.headers_mut().insert(header::WWW_AUTHENTICATE, auth.challenge.clone());
                return Err(refusal);
            }
        }
        if let Some(refusal) = self.head.and_then(|check| check(&request)) {
            body::drain(request.into_body()).await;
            return Err(refusal);
        }
        body::whole(request, self.body_limit).await
    }
}

impl<S> Layer<S> for Gate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Gated<S> {
        Gated { checks: self.0.clone(), inner }
    }
}

/// A route behind a [`Gate`].
#[derive(Clone)]
pub(crate) struct Gated<S> {
    checks: Arc<Checks>,
    inner: S,
}

impl<S> Service<Request> for Gated<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service made ready by `poll_ready` is the one called; a clone waits for the next.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        let checks = self.checks.clone();
        Box::pin(async move {
            match checks.admit(request).await {
                Ok(request) => ready.call(request).await,
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, Bytes};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Router;
    use base64::Engine;
    use http_body_util::BodyExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    const VERSION: &str = "x-version";

    fn versioned(request: &Request) -> Option<Response> {
        let refusal = || (StatusCode::PRECONDITION_FAILED, "no version").into_response();
        request.headers().get(VERSION).is_none().then(refusal)
    }

    /// A route behind the gate whose handler counts its calls and echoes the body's length.
    fn gated(calls: &'static AtomicUsize) -> Router {
        let gate = Gate::basic(
            BasicCredentials::new("slug", "secret"),
            HeaderValue::from_static("Basic realm=\"slug\""),
            || (StatusCode::UNAUTHORIZED, "who are you").into_response(),
            Some(versioned),
            8,
        );
        let handler = move |body: Bytes| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            body.len().to_string()
        };
        Router::new().route("/", post(handler).route_layer(gate))
    }

    async fn send(
        router: &Router,
        auth: Option<&str>,
        version: bool,
        body: &'static str,
    ) -> (StatusCode, String) {
        let mut request = Request::post("/");
        if let Some((user, password)) = auth.and_then(|a| a.split_once(':')) {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {encoded}"));
        }
        if version {
            request = request.header(VERSION, "1");
        }
        let response = router.clone().call(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let text = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(text.to_vec()).unwrap())
    }

    /// Auth before the head's check, the head's check before the body's limit; only a request
    /// that passes all three reaches the handler, with its body whole.
    #[tokio::test]
    async fn checks_run_in_order_and_only_a_whole_pass_reaches_the_handler() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let router = gated(&CALLS);
        assert_eq!(send(&router, None, true, "{}").await, (StatusCode::UNAUTHORIZED, "who are you".into()));
        let wrong = send(&router, Some("slug:wrong"), false, "far too long a body").await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED, "auth comes before the head and the body");
        let unversioned = send(&router, Some("slug:secret"), false, "far too long a body").await;
        assert_eq!(unversioned, (StatusCode::PRECONDITION_FAILED, "no version".into()));
        let large = send(&router, Some("slug:secret"), true, "far too long a body").await;
        assert_eq!(large.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(CALLS.load(Ordering::SeqCst), 0, "no refused request reached the handler");
        assert_eq!(send(&router, Some("slug:secret"), true, "{\"a\":1}").await, (StatusCode::OK, "7".into()));
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    }

    /// A refusal of the credentials carries the challenge; no other refusal does.
    #[tokio::test]
    async fn only_an_auth_refusal_carries_the_challenge() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let router = gated(&CALLS);
        let challenge = |request: Request| {
            let router = router.clone();
            async move { router.oneshot(request).await.unwrap().headers().get(header::WWW_AUTHENTICATE).cloned() }
        };
        let unauthenticated = Request::post("/").body(Body::empty()).unwrap();
        assert_eq!(challenge(unauthenticated).await.unwrap(), "Basic realm=\"slug\"");
        let unversioned = Request::post("/")
            .header(header::AUTHORIZATION, "Basic c2x1ZzpzZWNyZXQ=")
            .body(Body::empty())
            .unwrap();
        assert_eq!(challenge(unversioned).await, None);
    }

    /// A gate with no credentials reads the body and checks nothing else.
    #[tokio::test]
    async fn a_body_gate_only_reads_the_body() {
        let router = Router::new()
            .route("/", post(|body: Bytes| async move { body.len().to_string() }).route_layer(Gate::body(4)));
        assert_eq!(send(&router, None, false, "abcd").await, (StatusCode::OK, "4".into()));
        assert_eq!(send(&router, None, false, "abcde").await.0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
