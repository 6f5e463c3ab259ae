//! Basic auth with the manifest's id and password, checked before anything else so that an
//! unauthenticated caller learns nothing (not even whether a resource exists).

use axum::response::IntoResponse;

use crate::base::answer::AddonError;
use crate::web::basic_auth::{self, BasicCredentials};
use crate::web::gate::Gate;

/// The gate of the resource routes: the manifest's id and password, then the body read whole
/// within `body_limit`.
pub(crate) fn gate(id: &str, password: &str, body_limit: usize) -> Gate {
    let refuse = || AddonError::unauthenticated().into_response();
    Gate::basic(BasicCredentials::new(id, password), basic_auth::challenge(id), refuse, None, body_limit)
}
