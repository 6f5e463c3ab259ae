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
    let essence = value.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim();
    let is_json = essence.eq_ignore_ascii_case("application/json")
        || (starts_with_ignoring_case(essence, "application/") && ends_with_ignoring_case(essence, "+json"));
    if is_json {
        Ok(())
    } else {
        Err(AddonError::not_json(&essence.to_ascii_lowercase(), HEROKU_ADDONS_JSON))
    }
}

// Types are compared without ASCII case, and without a lower-cased copy: every call has one.
fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.as_bytes().get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn ends_with_ignoring_case(text: &str, suffix: &str) -> bool {
    let tail = text.len().checked_sub(suffix.len()).map(|start| &text.as_bytes()[start..]);
    tail.is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
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
        assert!(check_content_type(&headers("APPLICATION/VND.HEROKU-ADDONS+JSON; version=3")).is_ok());
        assert!(check_content_type(&headers("application/")).is_err());
        assert!(check_content_type(&headers("text/+json")).is_err());
        assert!(check_content_type(&headers("+json")).is_err());
        assert!(check_content_type(&headers("text/plain")).is_err());
        assert!(check_content_type(&headers("application/x-www-form-urlencoded")).is_err());
    }
}
