//! [`Limited`]: a vendor route's rate limit per resource, as an extractor. The vendor's own
//! extractor finds the request's resource (from a drain token, an API token, a path); `Limited`
//! then counts the request against that resource's allowance and refuses it with a JSON 429 and
//! `Retry-After` once it has asked too often, before the handler (or its body) runs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::services::rate_limit::RateLimiter;

/// A request's resource, as a vendor's extractor finds it, with the [`RateLimiter`] that counts
/// requests of its kind. Implement it on your extractor and take [`Limited<YourExtractor>`] in
/// the handler.
///
/// ```
/// use addon_runtime::{AddonError, Limited, LimitedResource, RateLimiter};
/// use axum::extract::{FromRequestParts, Path};
/// use axum::http::request::Parts;
///
/// struct Service { api_limit: RateLimiter }
///
/// /// The tenant a request to `/api/{uuid}` is for (a real one checks a token too).
/// struct Tenant(String);
///
/// impl FromRequestParts<std::sync::Arc<Service>> for Tenant {
///     type Rejection = AddonError;
///     async fn from_request_parts(parts: &mut Parts, state: &std::sync::Arc<Service>) -> Result<Self, AddonError> {
///         let Path(uuid) = Path::<String>::from_request_parts(parts, state)
///             .await
///             .map_err(|_| AddonError::not_found("No such tenant."))?;
///         Ok(Tenant(uuid))
///     }
/// }
///
/// impl LimitedResource<std::sync::Arc<Service>> for Tenant {
///     fn rate_limiter(state: &std::sync::Arc<Service>) -> &RateLimiter {
///         &state.api_limit
///     }
///     fn resource_uuid(&self) -> &str {
///         &self.0
///     }
/// }
///
/// async fn search(Limited(tenant): Limited<Tenant>) -> String {
///     format!("lines of {}", tenant.0)
/// }
/// ```
pub trait LimitedResource<S>: FromRequestParts<S> {
    /// The limiter for requests of this kind, from the router's state.
    fn rate_limiter(state: &S) -> &RateLimiter;

    /// The uuid of the resource the request belongs to: the key its allowance is kept under.
    fn resource_uuid(&self) -> &str;
}

/// Extracts `T`, the request's resource, then counts the request against `T`'s limiter: a JSON
/// 429 with `Retry-After` once that resource is over its limit. `T`'s own refusals (a 401, a
/// 404) come first and are not counted, so nobody spends another tenant's allowance.
///
/// It answers before the body is read: for routes that take large bodies (uploads, log
/// frames), call [`RateLimiter::check`] in the handler once the body is read, or a client still
/// sending sees the connection reset instead of the 429.
#[derive(Debug)]
pub struct Limited<T>(pub T);

impl<S, T> FromRequestParts<S> for Limited<T>
where
    S: Send + Sync,
    T: LimitedResource<S> + Send,
    T::Rejection: IntoResponse,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let resource = T::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        T::rate_limiter(state).check(resource.resource_uuid()).map_err(IntoResponse::into_response)?;
        Ok(Limited(resource))
    }
}
