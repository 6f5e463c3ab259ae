//! The HTTP side of the Partner API: auth, bodies, the resource routes and the router.

pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod json;
pub(crate) mod resources;
pub(crate) mod router;
pub(crate) mod trace;
pub(crate) mod vendor;
