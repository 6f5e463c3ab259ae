//! Single sign-on as DigitalOcean sends it: a form post with `resource_uuid`, `token`,
//! `timestamp`, `user_email` and `user_id`. The token is checked here (`sso_token`); the rest is
//! the lifecycle's sign-in (a suspended resource is refused there); the answer is a redirect
//! with the session cookie.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::sso_token::{self, Refusal, SsoForm};
use crate::base::answer::AddonError;
use crate::base::protocol::{Marketplace, SsoUser, TokenKind};
use crate::lifecycle::sign_in::{sign_in, VerifiedLogin};
use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::respond;

/// `POST {base}/sso`.
pub(super) async fn form_post<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond::answer(async { login(&core, respond::sign_in_form::<SsoForm>(&headers, body)?).await }).await
}

async fn login<A: Addon>(core: &Core<A>, form: SsoForm) -> Result<Response, AddonError> {
    let salt = &core.settings.digitalocean.sso_salt;
    let verified = match sso_token::verify(&form, salt, core.clock.now_secs(), core.settings.sso_window) {
        Ok(verified) => verified,
        Err(Refusal::TooLong { field, max }) => return Err(AddonError::sso_field_too_long(field, max)),
        Err(refusal) => {
            tracing::info!(reason = ?refusal, "DigitalOcean SSO login refused");
            return Err(AddonError::sso_refused(refusal.user_message()));
        }
    };
    let named = form.user_email.is_some() || form.user_id.is_some();
    let user = named.then_some(SsoUser { email: form.user_email, id: form.user_id });
    let login = VerifiedLogin {
        resource: verified.resource,
        // The token covers the resource and the time, not the user: like Heroku's resource token.
        token: TokenKind::Resource,
        user,
        app: None,
        owning_app: None,
        proof: verified.proof,
        valid_until: verified.valid_until,
        marketplace: Marketplace::DigitalOcean,
    };
    let signed_in = sign_in(core, login).await?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, signed_in.location);
    headers.append(header::SET_COOKIE, signed_in.session);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
