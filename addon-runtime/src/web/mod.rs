//! HTTP shared by every marketplace adapter: bodies read whole, JSON in, answers out (the one
//! place an `AddonError` becomes a response), the request log, the `Session` extractor with the
//! signed-out pages and sign-out, the [`Limited`](crate::Limited) rate-limit extractor, the [`ApiKey`](crate::ApiKey) extractor of the app's own API, and the
//! layers around an app's routes.

pub(crate) mod api_key;
pub(crate) mod body;
pub mod extract;
pub(crate) mod json;
pub(crate) mod limits;
mod logout;
pub(crate) mod pages;
pub(crate) mod rate_limit;
pub(crate) mod respond;
pub(crate) mod serve;
mod session;
pub(crate) mod signed_out;
pub(crate) mod trace;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::base::answer::AddonError;
pub(crate) use pages::PageHeaders;
pub(crate) use session::SessionContext;

/// `routes` (the adapters' and the vendor's) with what every route shares: sign-out, JSON
/// answers for unknown paths and methods, the body limit, the session context, a JSON 500 for a
/// panic, hardening headers on pages, and one log line per request.
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
        .fallback(|| async { AddonError::no_route().into_response() })
        .method_not_allowed_fallback(|| async { AddonError::wrong_method().into_response() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(Extension(Arc::new(sessions)))
        .layer(CatchPanicLayer::custom(|payload: Box<dyn std::any::Any + Send>| -> Response {
            AddonError::panicked("handler", payload.as_ref()).into_response()
        }))
        .layer(from_fn_with_state(Arc::new(pages), pages::harden))
        .layer(from_fn(trace::trace))
}
