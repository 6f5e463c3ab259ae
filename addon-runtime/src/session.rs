//! The session a successful SSO login starts: a signed cookie bound to one resource, and the
//! [`Session`] extractor that reads it on the vendor's own pages.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::http::json;
use crate::AddonError;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "addon_session";
/// Version tag of the cookie format, so a future format can tell old cookies apart.
const VERSION: &str = "v1";

/// A user signed in through Heroku SSO, for one resource.
///
/// Put it in a handler's arguments on routes passed to [`App::with_routes`](crate::App::with_routes):
/// requests without a valid, unexpired cookie get 401 before the handler runs. A session only ever
/// speaks for the resource its login named; check it with [`Session::require`] on routes that
/// carry a resource id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "r")]
    uuid: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// Unix seconds after which the cookie is refused, whatever the browser kept.
    #[serde(rename = "x")]
    expires_at: u64,
}

impl Session {
    /// The uuid of the resource this session is for.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The user's email, as Heroku sent it at login.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The user's Heroku id, as Heroku sent it at login.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Unix seconds at which the session ends.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// 403 unless this session is for `uuid`: a login to one resource never opens another's pages.
    pub fn require(&self, uuid: &str) -> Result<(), AddonError> {
        if self.uuid == uuid {
            Ok(())
        } else {
            Err(AddonError::forbidden(
                "You are signed in to a different add-on resource. Open this one from the Heroku dashboard.",
            ))
        }
    }
}

/// Signs and checks session cookies. Reaches handlers as a request extension.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    key: Arc<[u8]>,
    ttl: Duration,
    secure: bool,
}

impl SessionKeys {
    pub(crate) fn new(key: &[u8], ttl: Duration, secure: bool) -> Self {
        Self { key: key.into(), ttl, secure }
    }

    /// A `Set-Cookie` value starting a session.
    pub(crate) fn issue(&self, uuid: &str, email: Option<&str>, user_id: Option<&str>) -> HeaderValue {
        let session = Session {
            uuid: uuid.to_owned(),
            email: email.map(str::to_owned),
            user_id: user_id.map(str::to_owned),
            expires_at: unix_now() + self.ttl.as_secs(),
        };
        let payload = B64.encode(serde_json::to_vec(&session).expect("a session always serializes"));
        let signed = format!("{VERSION}.{payload}");
        let value = format!("{signed}.{}", B64.encode(self.mac(&signed)));
        cookie_header(COOKIE, &value, Some(self.ttl), self.secure, true)
    }

    /// The session a cookie value carries, if its signature holds and it has not expired.
    pub(crate) fn verify(&self, value: &str) -> Option<Session> {
        let (signed, mac) = value.rsplit_once('.')?;
        let payload = signed.strip_prefix(VERSION)?.strip_prefix('.')?;
        let mac = B64.decode(mac).ok()?;
        let mut check = self.hmac();
        check.update(signed.as_bytes());
        check.verify_slice(&mac).ok()?;
        let session: Session = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (session.expires_at > unix_now()).then_some(session)
    }

    fn hmac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256>>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    fn mac(&self, data: &str) -> Vec<u8> {
        let mut mac = self.hmac();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub(crate) fn secure(&self) -> bool {
        self.secure
    }
}

/// A cookie header: `Path=/`, `SameSite=Lax` (the SSO post is a top-level navigation from
/// Heroku's site, which Lax lets through for the redirect that follows), `Secure` in production.
pub(crate) fn cookie_header(
    name: &str,
    value: &str,
    max_age: Option<Duration>,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie values are checked to be header-safe")
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The value of one cookie in a request's `Cookie` headers.
pub(crate) fn read_cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let Some(keys) = parts.extensions.get::<SessionKeys>() else {
            tracing::error!(
                "a route uses `Session` but is not part of the add-on's App: add it with `App::with_routes`"
            );
            return Err(json::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page is not set up for add-on sessions.",
            ));
        };
        read_cookie(parts, COOKIE).and_then(|value| keys.verify(value)).ok_or_else(|| {
            json::error(
                StatusCode::UNAUTHORIZED,
                "You are not signed in. Open this add-on from your app's Resources tab in the Heroku dashboard.",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60), false)
    }

    fn value_of(header: &HeaderValue) -> String {
        let text = header.to_str().unwrap();
        text.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
    }

    #[test]
    fn round_trip() {
        let header = keys().issue("uuid-1", Some("a@example.com"), None);
        let text = header.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax") && !text.contains("Secure"));
        let session = keys().verify(&value_of(&header)).unwrap();
        assert_eq!(session.uuid(), "uuid-1");
        assert_eq!(session.email(), Some("a@example.com"));
        assert!(session.require("uuid-1").is_ok());
        assert_eq!(session.require("uuid-2").unwrap_err().status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let value = value_of(&keys().issue("uuid-1", None, None));
        let (signed, mac) = value.rsplit_once('.').unwrap();
        let forged_payload = B64.encode(br#"{"r":"uuid-2","x":99999999999}"#);
        assert!(keys().verify(&format!("v1.{forged_payload}.{mac}")).is_none());
        assert!(keys().verify(&format!("{signed}.AAAA")).is_none());
        let other = SessionKeys::new(b"another key, just as long as one", Duration::from_secs(60), false);
        assert!(other.verify(&value).is_none());
        assert!(keys().verify("garbage").is_none());
    }

    #[test]
    fn expired_sessions_are_refused() {
        let keys = SessionKeys::new(b"k", Duration::ZERO, true);
        let header = keys.issue("uuid-1", None, None);
        assert!(header.to_str().unwrap().contains("Secure"));
        assert!(keys.verify(&value_of(&header)).is_none());
    }
}
