//! HTTP shared by every marketplace adapter: bodies read whole, JSON in, answers out (the one
//! place an `AddonError` becomes a response), the request log, the `Session` extractor with the
//! signed-out pages and sign-out, the [`Limited`](crate::Limited) rate-limit extractor, the [`ApiKey`](crate::ApiKey) extractor of the app's own API, and the
//! layers around an app's routes.

pub(crate) mod api_key;
mod around;
pub(crate) mod basic_auth;
pub(crate) mod body;
pub mod extract;
pub(crate) mod gate;
pub(crate) mod json;
pub(crate) mod limits;
pub(crate) mod log_format;
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

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::post;
use axum::Router;
use tower::ServiceBuilder;

use around::AroundLayer;
pub(crate) use pages::{MarkPage, PageHeaders};
pub(crate) use session::SessionContext;

/// `routes` (the adapters' and the vendor's, which may be a whole existing app with its own
/// fallback) with what every route shares: sign-out, JSON answers for unknown paths and
/// methods, the body limit, the session context, a JSON 500 for a panic, hardening headers on
/// pages, and one log line per request.
pub(crate) fn around(
    routes: Router,
    sessions: SessionContext,
    body_limit: usize,
    pages: PageHeaders,
) -> Router {
    let sign_out =
        post(logout::logout.layer(ServiceBuilder::new().layer(MarkPage).layer(gate::Gate::body(body_limit))));
    // One `layer` call: each wraps every route in a boxed service of its own, which costs two
    // allocations per request and layer.
    let shared = ServiceBuilder::new()
        .layer(AroundLayer::new(pages, Arc::new(sessions)))
        .layer(DefaultBodyLimit::max(body_limit));
    routes.route(crate::services::sessions::Session::LOGOUT_PATH, sign_out).layer(shared)
}
