//! Answers as HTTP: the one place an [`AddonError`] becomes a response (JSON
//! `{"message": ...}` with its status, logged once), and JSON successes. Statuses and messages of
//! refusals are decided in `base::answer`, not here.

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::base::answer::AddonError;

impl IntoResponse for AddonError {
    fn into_response(self) -> Response {
        self.log();
        let mut body = serde_json::json!({ "message": self.message() });
        if let Some(plans) = self.plans() {
            body["plans"] = plans.into();
        }
        let mut response = raw(self.status(), body.to_string().into_bytes());
        if let Some(after) = self.retry_after() {
            // Whole seconds, rounded up: a client that waits that long finds room.
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// The response a handler's work gives: its success, or its refusal as JSON.
pub(crate) async fn answer(
    work: impl std::future::Future<Output = Result<Response, AddonError>>,
) -> Response {
    work.await.unwrap_or_else(IntoResponse::into_response)
}

/// A sign-in form (`application/x-www-form-urlencoded`), decoded: every marketplace's SSO post
/// is refused the same way when it is something else, unreadable or malformed.
pub(crate) fn sign_in_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AddonError> {
    let essence = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let is_form = essence
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded");
    if !is_form {
        return Err(AddonError::sso_not_a_form());
    }
    let body = body.map_err(|_| AddonError::body_unreadable())?;
    serde_urlencoded::from_bytes(&body).map_err(|e| AddonError::sso_malformed("form", e))
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(status, bytes),
        Err(e) => AddonError::unencodable(e).into_response(),
    }
}

/// Bytes that already hold JSON (a recorded answer, say).
pub(crate) fn raw(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
