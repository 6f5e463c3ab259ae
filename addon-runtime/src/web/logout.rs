//! `POST /sso/logout`: ends the session for good and clears its cookie.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::session::SessionContext;
use crate::base::answer::AddonError;
use crate::services::sessions;

/// Records the session as ended (so a copy of the cookie, on another machine or in a stolen
/// backup, stops working too), then clears the cookie. Signing out twice, or without a session,
/// still clears the cookie and answers the same way.
pub(crate) async fn logout(Extension(context): Extension<Arc<SessionContext>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    if is_cross_site(&parts.headers) {
        // Another site cannot sign a user out behind their back.
        return AddonError::cross_site_sign_out().into_response();
    }
    if let Some(Ok(session)) = sessions::read_cookie(&parts, sessions::COOKIE).map(|v| context.keys.verify(v))
    {
        if let Err(unavailable) = context.store.end_session(&session.sid, session.expires_at).await {
            // Clearing only the cookie would leave copies working: better to say it failed.
            return AddonError::from(unavailable).into_response();
        }
        tracing::info!(uuid = %session.uuid, "signed out");
    }
    let mut response = context.signed_out.signed_out(&parts.headers, context.product);
    response.headers_mut().append(header::SET_COOKIE, context.keys.clear());
    response
}

/// Browsers say where a request comes from in `Sec-Fetch-Site`; programs send nothing.
fn is_cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}
