//! JSON in and out. Every answer the runtime gives, success or failure, is JSON; every way a
//! body can be wrong gets a 4xx whose message says what to send instead.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::AddonError;

/// The media type of Partner API responses; Heroku sends it in `Accept`.
pub(crate) const HEROKU_ADDONS_JSON: &str = "application/vnd.heroku-addons+json; version=3";

/// `{"message": ...}` with a status.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "message": message }))
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "a response body could not be serialized");
            raw(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"message":"The add-on could not encode its answer."}"#.to_vec(),
            )
        }
    }
}

/// Bytes that already hold JSON (a recorded answer, say).
pub(crate) fn raw(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A refusal of the request, answered as `{"message": ...}` with its status.
pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> AddonError {
    AddonError::new(message.into()).with_status(status)
}

/// Reads a JSON request body: the content type must be JSON (or absent), the body within the
/// limit and well-formed, and its fields what `T` needs.
pub(crate) fn parse<T: DeserializeOwned>(
    what: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AddonError> {
    check_content_type(headers)?;
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            refuse(status, format!("The {what} body is larger than this add-on accepts."))
        } else {
            refuse(status, format!("The {what} body could not be read."))
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The {what} body is empty; expected a JSON object."),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        use serde_json::error::Category;
        let status = match e.classify() {
            Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
            Category::Syntax | Category::Eof | Category::Io => StatusCode::BAD_REQUEST,
        };
        refuse(status, format!("The {what} body is not valid: {e}."))
    })
}

/// `application/json`, Heroku's `application/vnd.heroku-addons+json; version=3`, any other
/// `+json` type, or no type at all (some clients send none) are JSON; anything else is 415.
fn check_content_type(headers: &HeaderMap) -> Result<(), AddonError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence =
        value.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let is_json =
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type `{essence}` is not supported; send `application/json` or `{HEROKU_ADDONS_JSON}`."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        h
    }

    #[test]
    fn json_content_types() {
        assert!(check_content_type(&HeaderMap::new()).is_ok());
        assert!(check_content_type(&headers("application/json; charset=utf-8")).is_ok());
        assert!(check_content_type(&headers(HEROKU_ADDONS_JSON)).is_ok());
        assert!(check_content_type(&headers("Application/JSON")).is_ok());
        assert!(check_content_type(&headers("text/plain")).is_err());
        assert!(check_content_type(&headers("application/x-www-form-urlencoded")).is_err());
    }
}
