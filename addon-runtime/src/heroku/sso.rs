//! Single sign-on as Heroku sends it: the dashboard posts a signed form (or, for legacy
//! add-ons, opens a signed GET URL). The token is checked here (`sso_token`), the rest is the
//! lifecycle's sign-in; the answer is a redirect with the session cookie.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::sso_token::{self, Refusal, Rules, SsoParams};
use crate::base::answer::AddonError;
use crate::base::protocol::Marketplace;
use crate::lifecycle::sign_in::{sign_in, VerifiedLogin};
use crate::lifecycle::Core;
use crate::services::sessions::cookie_header;
use crate::services::vendor::addon::Addon;
// `Path` refuses an id that is not UTF-8 (`%ff`) in JSON, like every other refusal.
use crate::web::extract::Path;
use crate::web::respond;

/// The cookie Heroku's legacy navigation header read.
const NAV_DATA_COOKIE: &str = "heroku-nav-data";

/// `POST {sso_path}`: the form Heroku's dashboard submits.
pub(crate) async fn form_post<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match respond::sign_in_form::<SsoParams>(&headers, body) {
        Ok(params) => login(&core, params, StatusCode::SEE_OTHER).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET {base_path}/{id}?token=..&timestamp=..`: the legacy sign-in URL.
pub(crate) async fn legacy_get<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut params = match serde_urlencoded::from_str::<SsoParams>(query.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(e) => return AddonError::sso_malformed("link", e).into_response(),
    };
    // The path names the resource; a query that names another one is refused by the token check.
    params.id.get_or_insert_with(|| id.clone());
    params.resource_id.get_or_insert(id);
    login(&core, params, StatusCode::FOUND).await
}

/// Verifies the token, then signs in through the lifecycle. Redirects with 303 after a post
/// (302 after a GET), never 307, which would re-post the form.
async fn login<A: Addon>(core: &Core<A>, params: SsoParams, redirect: StatusCode) -> Response {
    let settings = &core.settings;
    let rules = Rules {
        salt: &settings.sso_salt,
        now_unix: core.clock.now_secs(),
        window: settings.sso_window,
        user_scoped: settings.user_scoped_token,
    };
    let verified = match sso_token::verify(&params, &rules) {
        Ok(verified) => verified,
        Err(Refusal::TooLong { field, max }) => {
            return AddonError::sso_field_too_long(field, max).into_response();
        }
        Err(refusal) => {
            tracing::info!(reason = ?refusal, "SSO login refused");
            return AddonError::sso_refused(refusal.user_message()).into_response();
        }
    };
    let login = VerifiedLogin {
        marketplace: Marketplace::Heroku,
        resource: verified.resource,
        token: verified.kind,
        user: verified.user,
        app: params.app.or(params.context_app).or(params.attached_app),
        owning_app: params.owning_app,
        proof: verified.proof,
        valid_until: verified.valid_until,
    };
    let signed_in = match sign_in(core, login).await {
        Ok(signed_in) => signed_in,
        Err(refusal) => return refusal.into_response(),
    };
    let mut response = redirect.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, signed_in.location);
    headers.append(header::SET_COOKIE, signed_in.session);
    if let Some(nav) = params.nav_data.as_deref().filter(|n| is_cookie_safe(n)) {
        headers.append(
            header::SET_COOKIE,
            cookie_header(NAV_DATA_COOKIE, nav, None, core.sessions.secure(), false),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Nav data is URL-safe base64; anything else is not copied into a header.
fn is_cookie_safe(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 4096
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_=+/".contains(c))
}
