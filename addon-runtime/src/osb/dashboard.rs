//! `dashboard_url`: how a platform's user reaches the vendor's pages, signed in through the same
//! sessions Heroku's SSO starts.
//!
//! The OSB API leaves the proof to the broker. A platform stores the `dashboard_url` a provision
//! answered and shows it to whoever may see the instance (in Cloud Foundry, the space's
//! members): the platform's own access control is what stands between a user and the link, and
//! the broker never learns the platform's users. So the link is a capability: the instance id
//! and an HMAC-SHA256 of it under the session key, checked in constant time. It is refused once
//! the instance is deleted (the registry's state, as for every session), and every link changes
//! when the session key rotates (fetching the instance gives the new one). The session it starts
//! is the resource's, with no user: vendors must not grant per-user rights on it.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::base::answer::AddonError;
use crate::base::protocol::{Marketplace, TokenKind};
use crate::lifecycle::sign_in::{sign_in, VerifiedLogin};
use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::extract::Path;
use std::sync::Arc;

/// Where the dashboard links point (outside `/v2`: browsers follow them, not the platform).
pub(crate) const DASHBOARD_PATH: &str = "/osb/dashboard";

/// The signed link to the dashboard of `instance_id`.
pub(crate) fn url<A: Addon>(core: &Core<A>, instance_id: &str) -> String {
    let origin = core.settings.public_url_of(&A::SPEC);
    format!("{origin}{DASHBOARD_PATH}/{instance_id}?token={}", token(&core.settings.session_key, instance_id))
}

fn token(key: &[u8], instance_id: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"addon-runtime osb dashboard v1\0");
    mac.update(instance_id.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(serde::Deserialize)]
struct LinkQuery {
    token: String,
}

/// `GET /osb/dashboard/{instance_id}?token=..`: a session for the instance, then the vendor's page.
pub(crate) async fn open<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let sent = serde_urlencoded::from_str::<LinkQuery>(query.as_deref().unwrap_or_default()).ok();
    let expected = token(&core.settings.session_key, &instance_id);
    let genuine = sent.is_some_and(|q| bool::from(q.token.as_bytes().ct_eq(expected.as_bytes())));
    let owned = genuine && matches!(core.store.osb_instance(&instance_id).await, Ok(Some(_)));
    if !owned {
        return AddonError::osb_dashboard_refused().into_response();
    }
    let mut proof = [0u8; 16];
    if getrandom::fill(&mut proof).is_err() {
        return AddonError::internal("no randomness for a sign-in proof").into_response();
    }
    let login = VerifiedLogin {
        resource: instance_id,
        token: TokenKind::Resource,
        user: None,
        app: None,
        owning_app: None,
        // Each visit is its own sign-in: the link is meant to be followed again.
        proof: proof.iter().map(|b| format!("{b:02x}")).collect(),
        valid_until: core.clock.now_secs().saturating_add(60),
        marketplace: Marketplace::OpenServiceBroker,
    };
    match sign_in(&core, login).await {
        Ok(signed_in) => {
            let mut response = StatusCode::FOUND.into_response();
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, signed_in.location);
            headers.append(header::SET_COOKIE, signed_in.session);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}
