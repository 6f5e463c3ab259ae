//! Answers in the OSB API's shapes: successes as JSON objects (`{}` at least), refusals as
//! `{"error"?, "description"}`. Statuses and messages are still `base::answer`'s.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::base::answer::AddonError;

/// A refusal as the OSB API writes one, logged once.
pub(crate) fn refuse(error: AddonError) -> Response {
    error.log();
    let mut body = json!({ "description": error.message() });
    if let Some(code) = error.code() {
        body["error"] = code.into();
    }
    let mut response = json_response(error.status(), &body);
    if let Some(after) = error.retry_after() {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `410 {}`: what the OSB API answers for an instance or binding that is gone (or never was).
pub(crate) fn gone() -> Response {
    json_response(StatusCode::GONE, &json!({}))
}

/// The outcome of a handler: an answer, or a refusal written the OSB way.
pub(crate) fn answer(result: Result<Response, AddonError>) -> Response {
    result.unwrap_or_else(refuse)
}

/// Refusals written by the layers every route shares (a path that does not parse, a body over
/// the limit, no route under `/v2`) carry `{"message"}`: rewritten as `{"description"}` so
/// every OSB answer has the shape the platform reads.
pub(crate) async fn osb_bodies(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let rewritten = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut object)) if !object.contains_key("description") => {
            match object.remove("message") {
                Some(message) => {
                    object.insert("description".to_owned(), message);
                    Some(Value::Object(object).to_string())
                }
                None => None,
            }
        }
        _ => None,
    };
    let mut response = Response::from_parts(parts, Body::from(rewritten.map_or(bytes, Into::into)));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}
