//! Basic auth with the listing's slug and `ADDON_DO_PASSWORD`, checked before anything else so
//! that an unauthenticated caller learns nothing (not even whether a resource exists).

use axum::response::IntoResponse;

use crate::base::answer::AddonError;
use crate::web::basic_auth::{self, BasicCredentials};
use crate::web::gate::Gate;

/// The gate of the resource and notification routes: the slug and password, then the body read
/// whole within `body_limit`.
pub(super) fn gate(slug: &str, password: &str, body_limit: usize) -> Gate {
    let refuse = || AddonError::digitalocean_unauthenticated().into_response();
    Gate::basic(BasicCredentials::new(slug, password), basic_auth::challenge(slug), refuse, None, body_limit)
}
