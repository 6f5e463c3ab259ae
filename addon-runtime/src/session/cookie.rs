//! The session cookie's format: a JSON payload signed with HMAC-SHA256, and the cookie headers
//! that carry it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Session;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "addon_session";
/// Version tag of the cookie format, so a future format can tell old cookies apart.
const VERSION: &str = "v1";

/// Why a cookie did not give a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Not signed with our key, or not a session at all: tampered with, or from elsewhere.
    Invalid,
    /// Genuine, but past its end.
    Expired,
}

/// Signs and checks session cookies.
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

    /// A `Set-Cookie` value starting a session. Each session gets its own random id, which
    /// logging out records as ended, so a copy of the cookie stops working too.
    pub(crate) fn issue(&self, uuid: &str, email: Option<&str>, user_id: Option<&str>) -> HeaderValue {
        let session = Session {
            uuid: uuid.to_owned(),
            email: email.map(str::to_owned),
            user_id: user_id.map(str::to_owned),
            sid: crate::random_secret(),
            expires_at: unix_now() + self.ttl.as_secs(),
        };
        let payload = B64.encode(serde_json::to_vec(&session).expect("a session always serializes"));
        let signed = format!("{VERSION}.{payload}");
        let value = format!("{signed}.{}", B64.encode(self.mac(&signed)));
        cookie_header(COOKIE, &value, Some(self.ttl), self.secure, true)
    }

    /// The session a cookie value carries, if its signature holds and it has not expired.
    /// The signature is checked first, so only a genuine cookie is ever called expired.
    pub(crate) fn verify(&self, value: &str) -> Result<Session, Unreadable> {
        let (signed, mac) = value.rsplit_once('.').ok_or(Unreadable::Invalid)?;
        let payload = signed.strip_prefix(VERSION).and_then(|rest| rest.strip_prefix('.'));
        let payload = payload.ok_or(Unreadable::Invalid)?;
        let mac = B64.decode(mac).map_err(|_| Unreadable::Invalid)?;
        let mut check = self.hmac();
        check.update(signed.as_bytes());
        check.verify_slice(&mac).map_err(|_| Unreadable::Invalid)?;
        let json = B64.decode(payload).map_err(|_| Unreadable::Invalid)?;
        let session: Session = serde_json::from_slice(&json).map_err(|_| Unreadable::Invalid)?;
        if session.expires_at > unix_now() {
            Ok(session)
        } else {
            Err(Unreadable::Expired)
        }
    }

    /// A `Set-Cookie` value that makes the browser forget the session.
    pub(crate) fn clear(&self) -> HeaderValue {
        cookie_header(COOKIE, "", Some(Duration::ZERO), self.secure, true)
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
        assert_eq!(session.require("uuid-2").unwrap_err().status(), axum::http::StatusCode::FORBIDDEN);
    }

    #[test]
    fn every_session_has_its_own_id() {
        let first = keys().verify(&value_of(&keys().issue("uuid-1", None, None))).unwrap();
        let second = keys().verify(&value_of(&keys().issue("uuid-1", None, None))).unwrap();
        assert_eq!(first.sid.len(), 32);
        assert_ne!(first.sid, second.sid);
        assert!(!format!("{first:?}").contains(&first.sid), "Debug does not show the session id");
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let value = value_of(&keys().issue("uuid-1", None, None));
        let (signed, mac) = value.rsplit_once('.').unwrap();
        let forged_payload = B64.encode(br#"{"r":"uuid-2","s":"x","x":99999999999}"#);
        assert_eq!(keys().verify(&format!("v1.{forged_payload}.{mac}")), Err(Unreadable::Invalid));
        assert_eq!(keys().verify(&format!("{signed}.AAAA")), Err(Unreadable::Invalid));
        let other = SessionKeys::new(b"another key, just as long as one", Duration::from_secs(60), false);
        assert_eq!(other.verify(&value), Err(Unreadable::Invalid));
        assert_eq!(keys().verify("garbage"), Err(Unreadable::Invalid));
    }

    #[test]
    fn expired_sessions_are_refused() {
        let keys = SessionKeys::new(b"k", Duration::ZERO, true);
        let header = keys.issue("uuid-1", None, None);
        assert!(header.to_str().unwrap().contains("Secure"));
        assert_eq!(keys.verify(&value_of(&header)), Err(Unreadable::Expired));
    }

    #[test]
    fn clearing_expires_the_cookie_at_once() {
        let text = keys().clear().to_str().unwrap().to_owned();
        assert!(text.starts_with("addon_session=;") && text.contains("Max-Age=0"), "{text}");
    }
}
