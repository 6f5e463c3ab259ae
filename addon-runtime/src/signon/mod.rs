//! Single sign-on: Heroku's dashboard posts a signed form (or, for legacy add-ons, opens a
//! signed GET URL); the runtime checks it, asks the vendor where to go, and starts a session.

pub(crate) mod token;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::Shared;
use crate::http::{json, vendor};
use crate::session::{cookie_header, unix_now};
use crate::store::ResourceState;
use crate::{Addon, AddonError, SsoLogin};
use token::{Refusal, Rules, SsoParams};

/// The cookie Heroku's legacy navigation header read.
const NAV_DATA_COOKIE: &str = "heroku-nav-data";

/// `POST {sso_path}`: the form Heroku's dashboard submits.
pub(crate) async fn form_post<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let essence = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !essence
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return json::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Single sign-on expects an `application/x-www-form-urlencoded` form post.",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return json::error(rejection.status(), "The sign-in form could not be read."),
    };
    match serde_urlencoded::from_bytes::<SsoParams>(&body) {
        Ok(params) => login(&shared, params, StatusCode::SEE_OTHER).await,
        Err(e) => json::error(StatusCode::BAD_REQUEST, &format!("The sign-in form is not valid: {e}.")),
    }
}

/// `GET {base_path}/{id}?token=..&timestamp=..`: the legacy sign-in URL.
pub(crate) async fn legacy_get<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut params = match serde_urlencoded::from_str::<SsoParams>(query.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(e) => {
            return json::error(StatusCode::BAD_REQUEST, &format!("The sign-in link is not valid: {e}."))
        }
    };
    // The path names the resource; a query that names another one is refused by the token check.
    params.id.get_or_insert_with(|| id.clone());
    params.resource_id.get_or_insert(id);
    login(&shared, params, StatusCode::FOUND).await
}

/// Verifies the token, then the resource, then lets the vendor choose the landing page.
/// Redirects with 303 after a post (302 after a GET), never 307, which would re-post the form.
async fn login<A: Addon>(shared: &Shared<A>, params: SsoParams, redirect: StatusCode) -> Response {
    login_checked(shared, params, redirect).await.unwrap_or_else(IntoResponse::into_response)
}

async fn login_checked<A: Addon>(
    shared: &Shared<A>,
    params: SsoParams,
    redirect: StatusCode,
) -> Result<Response, AddonError> {
    let settings = &shared.settings;
    let rules = Rules {
        salt: &settings.sso_salt,
        now_unix: unix_now(),
        window: settings.sso_window,
        user_scoped: settings.user_scoped_token,
    };
    let verified = token::verify(&params, &rules).map_err(|refusal| refuse(&refusal))?;
    let resource = shared
        .store
        .resource(&verified.resource)
        .await?
        .ok_or_else(|| AddonError::not_found("This add-on resource does not exist here."))?;
    match resource.state {
        ResourceState::Provisioned => {}
        ResourceState::Provisioning | ResourceState::Pending => {
            return Err(AddonError::forbidden(
                "This add-on is still being set up. Try again in a few minutes.",
            ))
        }
        ResourceState::Deprovisioned | ResourceState::Failed => {
            return Err(AddonError::forbidden(
                "This add-on has been removed; there is nothing to sign in to.",
            ))
        }
    }
    let login = SsoLogin {
        uuid: resource.uuid.clone(),
        plan: resource.plan,
        token: verified.kind,
        user: verified.user.clone(),
        app: params.app.or(params.context_app).or(params.attached_app),
        owning_app: params.owning_app,
    };
    let addon = shared.addon.clone();
    let target = vendor::call(settings.handler_timeout, "sso", async move { addon.sso(login).await }).await?;
    target.check().map_err(|problem| vendor::bug("sso", &problem))?;
    let location = HeaderValue::from_str(target.location())
        .map_err(|_| vendor::bug("sso", "the redirect is not a valid header value"))?;
    let user = verified.user.as_ref();
    let session = shared.sessions.issue(
        &resource.uuid,
        user.and_then(|u| u.email.as_deref()),
        user.and_then(|u| u.id.as_deref()),
    );
    let mut response = redirect.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.append(header::SET_COOKIE, session);
    if let Some(nav) = params.nav_data.as_deref().filter(|n| is_cookie_safe(n)) {
        headers.append(
            header::SET_COOKIE,
            cookie_header(NAV_DATA_COOKIE, nav, None, shared.sessions.secure(), false),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn refuse(refusal: &Refusal) -> AddonError {
    tracing::info!(reason = ?refusal, "SSO login refused");
    AddonError::forbidden(refusal.user_message())
}
/// Nav data is URL-safe base64; anything else is not copied into a header.
fn is_cookie_safe(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 4096
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_=+/".contains(c))
}
