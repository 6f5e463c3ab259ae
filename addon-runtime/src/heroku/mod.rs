//! The Heroku adapter: the v3 Add-on Partner API over HTTP. Routes, Basic auth, JSON bodies and
//! SSO forms in Heroku's shapes, mapped onto the lifecycle core and back.

pub(crate) mod auth;
mod resources;
mod sso;
pub(crate) mod sso_token;

use std::sync::Arc;

use axum::handler::Handler;
use axum::routing::{post, put};
use axum::Router;
use tower::ServiceBuilder;

use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::gate::Gate;
use crate::web::pages;

/// Heroku's routes: provision, plan change and deprovision behind Basic auth, and the two SSO
/// entry points (the form post, and the legacy signed GET).
pub(crate) fn routes<A: Addon>(core: Arc<Core<A>>) -> Router {
    let spec = &A::SPEC;
    let authenticated = auth::gate(spec.id, &core.settings.password, core.settings.body_limit);
    // The same path serves plan change and deprovision (authenticated) and the legacy SSO
    // link (signed by its token instead): auth is layered onto the first two only.
    // Each stack layers the handler, not the route: a `route_layer` boxes the route once more
    // (two allocations per request), and the layered route once more when the gate calls it.
    let page = ServiceBuilder::new().layer(pages::MarkPage).layer(Gate::body(core.settings.body_limit));
    let resource = put(resources::plan_change::<A>.layer(authenticated.clone()))
        .delete(resources::deprovision::<A>.layer(authenticated.clone()))
        .get(sso::legacy_get::<A>.layer(pages::MarkPage));
    let provision = post(resources::provision::<A>.layer(authenticated));
    Router::new()
        .route(spec.base_path, provision)
        .route(&format!("{}/{{id}}", spec.base_path), resource)
        .route(spec.sso_path, post(sso::form_post::<A>.layer(page)))
        .with_state(core)
}
