//! What every request passes through on its way in and out, as one service rather than a stack
//! of middleware functions (each of those boxes a future and clones the stack below it, per
//! request): the request id and log line (`trace`), the hardening headers of a page (`pages`),
//! the session context the `Session` extractor reads, and the JSON refusal of a bare 404 or 405.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tracing::Instrument;

use super::pages::{PageHeaders, PageMark};
use super::session::SessionContext;
use super::trace;
use crate::base::answer::AddonError;

/// The layer [`super::around()`] puts outermost.
#[derive(Clone)]
pub(crate) struct AroundLayer {
    shared: Arc<Shared>,
}

struct Shared {
    pages: PageHeaders,
    sessions: Arc<SessionContext>,
}

impl AroundLayer {
    pub(crate) fn new(pages: PageHeaders, sessions: Arc<SessionContext>) -> Self {
        Self { shared: Arc::new(Shared { pages, sessions }) }
    }
}

impl<S> Layer<S> for AroundLayer {
    type Service = Around<S>;

    fn layer(&self, inner: S) -> Around<S> {
        Around { inner, shared: self.shared.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct Around<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request> for Around<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    // Axum's route futures are `Unpin` (they box what they run): no pinning is needed to
    // catch their panics.
    S::Future: Send + Unpin + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let context = trace::RequestContext::new(&request);
        let span = context.span(&request);
        let mark = PageMark::default();
        let extensions = request.extensions_mut();
        extensions.insert(mark.clone());
        extensions.insert(self.shared.sessions.clone());
        // The service that was polled ready answers; a clone stays for the next request.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        let answer = async move {
            // A panicking handler gets the one JSON 500, and the connection lives on.
            let response = match catch_unwind(AssertUnwindSafe(|| ready.call(request))) {
                Ok(answering) => match CatchUnwind(answering).await {
                    Ok(Ok(response)) => response,
                    Err(payload) => AddonError::panicked("handler", payload.as_ref()).into_response(),
                },
                Err(payload) => AddonError::panicked("handler", payload.as_ref()).into_response(),
            };
            // Within the request: the refusal logs a line that names it.
            json_when_bare(response)
        };
        let answer = context.scope(answer).instrument(span.clone());
        Box::pin(async move {
            let mut response = answer.await;
            if mark.is_set() {
                shared.pages.apply(&mut response);
            }
            trace::answered(&span, context, started, &mut response);
            Ok(response)
        })
    }
}

/// A future whose panic is its output's `Err`, as `catch_unwind` does for a call.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = Pin::new(&mut self.0);
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// A 404 or 405 with no body and no content type (axum's answer for a path no route knows, or a
/// method a route does not take) becomes the runtime's JSON refusal, with the same status and
/// headers (`Allow` included). A fallback or handler that wrote a body of its own is left alone.
///
/// No fallback is set for this: a router may have only one, and the vendor's must win.
fn json_when_bare(response: Response) -> Response {
    let refusal = match response.status() {
        StatusCode::NOT_FOUND => AddonError::no_route,
        StatusCode::METHOD_NOT_ALLOWED => AddonError::wrong_method,
        _ => return response,
    };
    if response.headers().contains_key(header::CONTENT_TYPE) || response.body().size_hint().exact() != Some(0)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let (json, body) = refusal().into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(json.headers);
    Response::from_parts(parts, body)
}
