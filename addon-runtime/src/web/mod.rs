//! HTTP shared by every marketplace adapter: bodies read whole, JSON in, answers out (the one
//! place an `AddonError` becomes a response), the request log, the `Session` extractor with the
//! signed-out pages and sign-out, the [`Limited`](crate::Limited) rate-limit extractor, the [`ApiKey`](crate::ApiKey) extractor of the app's own API, and the
//! layers around an app's routes.

pub(crate) mod api_key;
pub(crate) mod basic_auth;
pub(crate) mod body;
pub mod extract;
pub(crate) mod json;
pub(crate) mod limits;
pub(crate) mod log_sink;
mod logout;
pub(crate) mod pages;
pub(crate) mod rate_limit;
pub(crate) mod respond;
pub(crate) mod serve;
mod session;
pub(crate) mod signed_out;
pub(crate) mod trace;

use std::sync::Arc;

use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::base::answer::AddonError;
pub(crate) use pages::PageHeaders;
pub(crate) use session::SessionContext;

/// `routes` (the adapters' and the vendor's, which may be a whole existing app with its own
/// fallback) with what every route shares: sign-out, JSON answers for unknown paths and
/// methods, the body limit, the session context, a JSON 500 for a panic, hardening headers on
/// pages, and one log line per request.
///
/// No fallback is set here: a router may have only one, and the vendor's must win. Unknown
/// paths and methods get JSON from a layer instead (`json_when_bare`).
pub(crate) fn around(
    routes: Router,
    sessions: SessionContext,
    body_limit: usize,
    pages: PageHeaders,
) -> Router {
    let sign_out = post(logout::logout)
        .route_layer(from_fn_with_state(body_limit, body::read_whole))
        .route_layer(from_fn(pages::page));
    routes
        .route(crate::services::sessions::Session::LOGOUT_PATH, sign_out)
        .layer(from_fn(json_when_bare))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(Extension(Arc::new(sessions)))
        .layer(CatchPanicLayer::custom(|payload: Box<dyn std::any::Any + Send>| -> Response {
            AddonError::panicked("handler", payload.as_ref()).into_response()
        }))
        .layer(from_fn_with_state(Arc::new(pages), pages::harden))
        .layer(from_fn(trace::trace))
}

/// A 404 or 405 with no body and no content type (axum's answer for a path no route knows, or a
/// method a route does not take) becomes the runtime's JSON refusal, with the same status and
/// headers (`Allow` included). A fallback or handler that wrote a body of its own is left alone.
async fn json_when_bare(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
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
