//! JSON in: every way a body can be wrong gets a 4xx whose message says what to send instead.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::base::answer::AddonError;

/// The media type of Partner API responses; Heroku sends it in `Accept`.
pub(crate) const HEROKU_ADDONS_JSON: &str = "application/vnd.heroku-addons+json; version=3";

/// Reads a JSON request body: the content type must be JSON (or absent), the body within the
/// limit and well-formed, and its fields what `T` needs.
pub(crate) fn parse<T: DeserializeOwned>(
    what: &str,
    limit: usize,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AddonError> {
    check_content_type(headers)?;
    let body = body.map_err(|rejection| match rejection.status() {
        // The router reads bodies whole within the limit first; this guards routers built
        // another way.
        StatusCode::PAYLOAD_TOO_LARGE => AddonError::body_too_large(limit),
        _ => AddonError::body_unreadable(),
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AddonError::empty_body(what));
    }
    serde_json::from_slice(&body).map_err(|e| {
        let syntax = !matches!(e.classify(), serde_json::error::Category::Data);
        AddonError::malformed_body(what, syntax, e)
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
        Err(AddonError::not_json(&essence, HEROKU_ADDONS_JSON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        use axum::http::HeaderValue;
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
