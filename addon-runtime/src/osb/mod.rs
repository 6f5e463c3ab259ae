//! The Open Service Broker adapter: the OSB API v2.17 served from the same vendor methods as
//! Heroku's, for an add-on that declares `osb(...)`. Routes under `/v2/`, Basic auth with the
//! platform's credentials and `X-Broker-API-Version` on every one of them; the catalog from the
//! declaration; instances, updates and deprovisions through the lifecycle core; bindings and the
//! attributes replays are judged by in the registry's OSB tables; `last_operation` from the
//! registry's state and jobs; `dashboard_url` a signed link that starts the same session as SSO.

mod auth;
mod bindings;
mod broker;
mod catalog;
mod dashboard;
mod instances;
mod reply;

use std::sync::Arc;

use axum::middleware::from_fn;
use axum::routing::{get, put};
use axum::Router;

use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::pages;

/// The OSB routes, or `None` when the add-on does not declare `osb(...)`.
pub(crate) fn routes<A: Addon>(core: Arc<Core<A>>) -> Option<Router> {
    let service = A::SPEC.osb?;
    let (user, password) = core.settings.osb_credentials_of(&A::SPEC);
    let gate = auth::gate(user, password, core.settings.body_limit);
    let catalog = Arc::new(catalog::Catalog::new(&A::SPEC, &service));
    let state = broker::Broker { core: core.clone(), catalog };
    let api = Router::new()
        .route("/v2/catalog", get(broker::catalog::<A>))
        .route(
            "/v2/service_instances/{instance_id}",
            put(instances::provision::<A>)
                .patch(instances::update::<A>)
                .delete(instances::deprovision::<A>)
                .get(instances::fetch::<A>),
        )
        .route("/v2/service_instances/{instance_id}/last_operation", get(instances::last_operation::<A>))
        .route(
            "/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
            put(bindings::bind::<A>).delete(bindings::unbind::<A>).get(bindings::fetch::<A>),
        )
        .route(
            "/v2/service_instances/{instance_id}/service_bindings/{binding_id}/last_operation",
            get(bindings::last_operation::<A>),
        )
        // Auth first: an unauthenticated caller learns nothing, not even the version wanted.
        .route_layer(gate)
        .layer(from_fn(reply::osb_bodies))
        .with_state(state);
    let dashboard = Router::new()
        .route(&format!("{}/{{instance_id}}", dashboard::DASHBOARD_PATH), get(dashboard::open::<A>))
        .route_layer(pages::MarkPage)
        .with_state(core);
    Some(api.merge(dashboard))
}
