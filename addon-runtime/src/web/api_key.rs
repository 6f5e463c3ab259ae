//! [`ApiKey`]: the app's own API, authenticated by one of the resource's config vars (the key
//! Heroku set on the app), sent as `Authorization: Bearer <value>` or as the password of Basic
//! auth. The registry finds the resource by a keyed digest of the value, never a plain copy, and
//! only a live one (provisioned, not deprovisioned).

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::rate_limit::LimitedResource;
use crate::base::answer::AddonError;
use crate::base::protocol::ConfigVar;
use crate::services::rate_limit::RateLimiter;
use crate::services::store::{ResourceRecord, Store};

/// Which config var is the app's API key, and where the registry is in the router's state.
/// Implement it on your add-on (or any type of yours) and take [`ApiKey<YourType>`] in handlers.
///
/// ```
/// use std::sync::Arc;
/// use addon_runtime::{ApiKey, ApiKeyVar, ConfigVar, Store};
///
/// struct Pingly { store: Store }
///
/// impl ApiKeyVar<Arc<Pingly>> for Pingly {
///     // With the macro, the constant it generates: `Pingly::PINGLY_API_KEY`.
///     const VAR: ConfigVar = ConfigVar::new("PINGLY_API_KEY");
///
///     fn store(state: &Arc<Pingly>) -> &Store {
///         &state.store
///     }
/// }
///
/// async fn monitors(key: ApiKey<Pingly>) -> String {
///     format!("the monitors of {}", key.resource().uuid)
/// }
/// ```
pub trait ApiKeyVar<S> {
    /// The config var whose value the app sends.
    const VAR: ConfigVar;

    /// The registry, from the router's state.
    fn store(state: &S) -> &Store;
}

/// The live resource whose [`ApiKeyVar::VAR`] the request sent, as `Authorization: Bearer
/// <value>` or as Basic auth's password (any user name). Anything else is a JSON 401 with
/// `WWW-Authenticate: Bearer`, the same for a wrong key as for a deprovisioned resource's.
pub struct ApiKey<K> {
    resource: ResourceRecord,
    key: PhantomData<fn() -> K>,
}

impl<K> ApiKey<K> {
    /// The resource the key opens.
    pub fn resource(&self) -> &ResourceRecord {
        &self.resource
    }

    pub fn into_resource(self) -> ResourceRecord {
        self.resource
    }
}

impl<K> std::fmt::Debug for ApiKey<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("resource", &self.resource).finish()
    }
}

impl<S, K> FromRequestParts<S> for ApiKey<K>
where
    S: Send + Sync,
    K: ApiKeyVar<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let var = K::VAR.name();
        let Some(sent) = parts.headers.get(header::AUTHORIZATION).and_then(credential) else {
            return Err(refuse(var, parts.headers.contains_key(header::AUTHORIZATION)));
        };
        match K::store(state).resource_by_config_var(var, &sent).await {
            Ok(Some(resource)) if resource.suspended_at.is_some() => {
                Err(AddonError::suspended().into_response())
            }
            Ok(Some(resource)) => Ok(ApiKey { resource, key: PhantomData }),
            Ok(None) => Err(refuse(var, true)),
            Err(unavailable) => Err(AddonError::from(unavailable).into_response()),
        }
    }
}

/// `Limited<ApiKey<K>>`: each resource's calls counted against `K`'s limiter, once its key opened it.
impl<S, K> LimitedResource<S> for ApiKey<K>
where
    S: Send + Sync,
    K: ApiKeyVar<S> + ApiKeyLimit<S>,
{
    fn rate_limiter(state: &S) -> &RateLimiter {
        K::api_rate_limiter(state)
    }

    fn resource_uuid(&self) -> &str {
        &self.resource.uuid
    }
}

/// An [`ApiKeyVar`] whose calls are rate limited per resource: implement it to take
/// [`Limited<ApiKey<K>>`](crate::Limited) (a wrong key is refused before it is counted).
pub trait ApiKeyLimit<S> {
    /// The limiter for the API's calls, from the router's state.
    fn api_rate_limiter(state: &S) -> &RateLimiter;
}

/// The value in `Bearer <value>`, or the password in `Basic <base64(user:password)>` (schemes
/// in any case).
fn credential(value: &HeaderValue) -> Option<String> {
    let (scheme, rest) = value.to_str().ok()?.trim().split_once(' ')?;
    let rest = rest.trim();
    let sent = if scheme.eq_ignore_ascii_case("bearer") {
        rest.to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let (_user, password) =
            String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))?;
        password
    } else {
        return None;
    };
    (!sent.is_empty()).then_some(sent)
}

fn refuse(var: &str, sent: bool) -> Response {
    let mut response = AddonError::api_key_refused(var, sent).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: &str) -> Option<String> {
        credential(&HeaderValue::from_str(value).unwrap())
    }

    #[test]
    fn bearer_and_basic_carry_the_key() {
        assert_eq!(read("Bearer k-123").as_deref(), Some("k-123"));
        assert_eq!(read("bearer   k-123 ").as_deref(), Some("k-123"));
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:k-123");
        assert_eq!(read(&format!("Basic {basic}")).as_deref(), Some("k-123"));
        let no_user = base64::engine::general_purpose::STANDARD.encode(":k:with:colons");
        assert_eq!(read(&format!("BASIC {no_user}")).as_deref(), Some("k:with:colons"));
    }

    #[test]
    fn anything_else_carries_none() {
        for value in ["", "Bearer", "Bearer ", "Token k-123", "Basic !!!", "k-123"] {
            assert_eq!(read(value), None, "{value:?}");
        }
        let no_colon = base64::engine::general_purpose::STANDARD.encode("k-123");
        assert_eq!(read(&format!("Basic {no_colon}")), None);
        let empty = base64::engine::general_purpose::STANDARD.encode("user:");
        assert_eq!(read(&format!("Basic {empty}")), None);
    }
}
