//! The DigitalOcean adapter: DigitalOcean Add-Ons' calls over HTTP, mapped onto the lifecycle
//! core and back. Mounted only when the add-on declares `digitalocean(...)`; its resources are
//! its own (the registry records the marketplace), its secrets are `ADDON_DO_*`.
//!
//! `{base}` is the listing's `base_path` (`/digitalocean` by default):
//!
//! | call | route | answer |
//! | --- | --- | --- |
//! | provision | `POST {base}/resources` | 200 `{"config", "id", "message"}` (202 if accepted for later) |
//! | plan change | `PUT {base}/resources/{uuid}` `{"plan_slug"}` | 204 (200 with new config) |
//! | deprovision | `DELETE {base}/resources/{uuid}` | 200 `{}` (202 if accepted for later) |
//! | notification | `POST {base}/notifications` | 200 `{"message"}`; 422 for an unknown type |
//! | SSO | `POST {base}/sso` (form) | 303 to the vendor's page, with the session cookie |

mod auth;
mod notifications;
mod resources;
mod sso;
pub(crate) mod sso_token;

use std::sync::Arc;

use addon_manifest::DigitalOceanListing;
use axum::handler::Handler;
use axum::routing::{post, put};
use axum::Router;
use tower::ServiceBuilder;

use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::gate::Gate;
use crate::web::pages;

/// DigitalOcean's routes: the resource calls and notifications behind Basic auth, the SSO form
/// signed by its token instead.
pub(crate) fn routes<A: Addon>(core: Arc<Core<A>>, listing: DigitalOceanListing<'static>) -> Router {
    let secrets = &core.settings.digitalocean;
    let slug = listing.slug_or(A::SPEC.id);
    let authenticated = auth::gate(slug, &secrets.password, core.settings.body_limit);
    let base = listing.base_path;
    // Each stack layers the handler, not the route, as Heroku's do (`heroku::routes`).
    let provision = post(resources::provision::<A>.layer(authenticated.clone()));
    let resource = put(resources::plan_change::<A>.layer(authenticated.clone()))
        .delete(resources::deprovision::<A>.layer(authenticated.clone()));
    let notification = post(notifications::receive::<A>.layer(authenticated));
    let page = ServiceBuilder::new().layer(pages::MarkPage).layer(Gate::body(core.settings.body_limit));
    let sso = post(sso::form_post::<A>.layer(page));
    Router::new()
        .route(&format!("{base}/resources"), provision)
        .route(&format!("{base}/resources/{{uuid}}"), resource)
        .route(&format!("{base}/notifications"), notification)
        .route(&format!("{base}/sso"), sso)
        .with_state(core)
}
