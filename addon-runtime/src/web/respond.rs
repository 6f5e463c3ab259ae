//! Answers as HTTP: the one place an [`AddonError`] becomes a response (JSON
//! `{"message": ...}` with its status, logged once), and JSON successes. Statuses and messages of
//! refusals are decided in `base::answer`, not here.

use axum::http::{header, HeaderValue, StatusCode};
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

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(status, bytes),
        Err(e) => AddonError::unencodable(e).into_response(),
    }
}

/// Bytes that already hold JSON (a recorded answer, say).
pub(crate) fn raw(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
