//! The services the lifecycle uses: the registry (`store`), Heroku's Platform API (`platform`),
//! the vendor's methods (`vendor`: the `Addon` trait and calling it safely), session cookies
//! (`sessions`), per-process locks and per-resource rate limits (`rate_limit`). Each imports only `base` and, where it must, another
//! service below it in this list: `platform` and `vendor` use `store`; none of them knows HTTP
//! routing.

pub(crate) mod locks;
pub(crate) mod platform;
pub(crate) mod rate_limit;
pub(crate) mod sessions;
pub(crate) mod store;
pub(crate) mod vendor;
