//! The axum router: Heroku's routes, the vendor's own routes, and the layers around both.

use std::any::Any;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{post, put};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;

use super::{auth, body, json, resources, trace};
use crate::app::Shared;
use crate::session::{self, SessionContext};
use crate::{signon, Addon, Session, SignedOut};

pub(crate) fn build<A: Addon>(
    shared: Arc<Shared<A>>,
    vendor_routes: Router,
    signed_out: SignedOut,
) -> Router {
    let spec = &A::SPEC;
    let basic_auth =
        from_fn_with_state(Arc::new(auth::BasicAuth::new(spec.id, &shared.settings.password)), auth::require);
    // Inside auth, so that a caller without credentials gets 401 whatever it sends.
    let whole_body = from_fn_with_state(shared.settings.body_limit, body::read_whole);
    // The same path serves plan change and deprovision (authenticated) and the legacy SSO
    // link (signed by its token instead): auth is layered onto the first two only.
    let resource = put(resources::plan_change::<A>)
        .delete(resources::deprovision::<A>)
        .route_layer(whole_body.clone())
        .route_layer(basic_auth.clone())
        .get(signon::legacy_get::<A>);
    let provision = post(resources::provision::<A>).route_layer(whole_body.clone()).route_layer(basic_auth);
    let heroku = Router::new()
        .route(spec.base_path, provision)
        .route(&format!("{}/{{id}}", spec.base_path), resource)
        .route(spec.sso_path, post(signon::form_post::<A>).route_layer(whole_body.clone()))
        .route(Session::LOGOUT_PATH, post(session::logout).route_layer(whole_body))
        .with_state(shared.clone());
    let sessions = SessionContext {
        keys: shared.sessions.clone(),
        store: shared.store.clone(),
        signed_out,
        product: spec.name,
    };

    heroku
        .merge(vendor_routes)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(shared.settings.body_limit))
        .layer(Extension(Arc::new(sessions)))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(from_fn(trace::trace))
}

async fn not_found() -> Response {
    json::error(StatusCode::NOT_FOUND, "There is nothing at this address.")
}

async fn method_not_allowed() -> Response {
    json::error(StatusCode::METHOD_NOT_ALLOWED, "This address does not answer to that HTTP method.")
}

/// A panic in a vendor method (or anywhere below) ends that request with a JSON 500; the server
/// and every other request go on.
fn panicked(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a handler panicked; the request got a 500 and nothing was recorded");
    json::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The add-on failed while handling this request. Please try again.",
    )
}
