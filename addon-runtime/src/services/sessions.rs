//! Sessions: the [`Session`] a successful sign-in starts, the cookie's format (a JSON payload
//! signed with HMAC-SHA256, expiry read from the app's clock) and the cookie headers that carry
//! it. The extractor that reads it on the vendor's pages is the web layer's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::request::Parts;
use http::{header, HeaderValue};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::base::answer::AddonError;
use crate::base::clock::SharedClock;
use crate::base::protocol::SsoUser;

/// A user signed in through Heroku SSO, for one resource.
///
/// Put it in a handler's arguments on routes passed to [`App::with_routes`](crate::App::with_routes).
/// Before the handler runs, the request must carry a session cookie that is genuine (signed with
/// the app's key), unexpired, not signed out, and for a resource that is still provisioned in
/// the registry; otherwise the client gets `401` (JSON, or for a browser the page or redirect
/// chosen with [`App::with_signed_out`](crate::App::with_signed_out)). A session only ever speaks
/// for the resource its login named; check it with [`Session::require`] on routes that carry a
/// resource id.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "r")]
    pub(crate) uuid: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// Whether a user-scoped token covered `email` and `user_id` at login.
    #[serde(rename = "v", default, skip_serializing_if = "std::ops::Not::not")]
    vouched: bool,
    /// This session's own id: signing out records it as ended.
    #[serde(rename = "s")]
    pub(crate) sid: String,
    /// Unix seconds after which the cookie is refused, whatever the browser kept.
    #[serde(rename = "x")]
    pub(crate) expires_at: u64,
}

impl Session {
    /// Where a signed-in page posts to sign out (a form with `method="post"`): the runtime ends
    /// the session for good, clears the cookie, and answers as [`SignedOut`](crate::SignedOut) says.
    pub const LOGOUT_PATH: &'static str = "/sso/logout";

    /// The session cookie's name: a signed, `HttpOnly`, `SameSite=Lax` cookie (`Secure` in
    /// production) that the runtime sets after SSO and clears on sign-out.
    pub const COOKIE: &'static str = "addon_session";

    /// The uuid of the resource this session is for.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The user's email, as the sign-in form gave it. Heroku vouched for it only when
    /// [`Session::vouched`] is true; otherwise it is a label, not a proof (see
    /// [`Session::vouched_email`]).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The user's Heroku id, as the sign-in form gave it (vouched for as [`Session::email`] is).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether Heroku vouched for this session's user: the login carried a user-scoped token,
    /// which covers the user's id and email. Set `ADDON_SSO_USER_SCOPED_TOKEN=require` to
    /// refuse every other login.
    pub fn vouched(&self) -> bool {
        self.vouched
    }

    /// The email, only if Heroku vouched for it: the one to grant per-user rights on.
    pub fn vouched_email(&self) -> Option<&str> {
        self.email().filter(|_| self.vouched)
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
            Err(AddonError::other_resource())
        }
    }
}

// The session id is left out: it is what signing out revokes, and logs have no use for it.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("uuid", &self.uuid)
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("vouched", &self.vouched)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The session cookie's name.
pub(crate) const COOKIE: &str = Session::COOKIE;
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
    /// Signs new cookies; verifies too.
    key: Arc<[u8]>,
    /// Keys replaced by a rotation: cookies they signed verify until they expire or the key is
    /// dropped. They never sign.
    previous: Arc<[Vec<u8>]>,
    ttl: Duration,
    secure: bool,
    clock: SharedClock,
}

impl SessionKeys {
    pub(crate) fn new(key: &[u8], ttl: Duration, secure: bool, clock: SharedClock) -> Self {
        Self { key: key.into(), previous: Arc::new([]), ttl, secure, clock }
    }

    /// The same, also verifying cookies signed with keys `previous` (a rotation under way).
    pub(crate) fn with_previous(mut self, previous: &[Vec<u8>]) -> Self {
        self.previous = previous.into();
        self
    }

    /// A `Set-Cookie` value starting a session. Each session gets its own random id, which
    /// logging out records as ended, so a copy of the cookie stops working too.
    /// `vouched` says whether a user-scoped token covered `user`.
    pub(crate) fn issue(&self, uuid: &str, user: Option<&SsoUser>, vouched: bool) -> HeaderValue {
        let session = Session {
            uuid: uuid.to_owned(),
            email: user.and_then(|u| u.email.clone()),
            user_id: user.and_then(|u| u.id.clone()),
            vouched,
            sid: addon_manifest::random_secret(),
            expires_at: self.clock.now_secs().saturating_add(self.ttl.as_secs()),
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
        // Each key's check is constant-time; how many keys were tried says nothing of the MAC.
        let genuine = std::iter::once(&*self.key).chain(self.previous.iter().map(Vec::as_slice)).any(|key| {
            let mut check = hmac_with(key);
            check.update(signed.as_bytes());
            check.verify_slice(&mac).is_ok()
        });
        if !genuine {
            return Err(Unreadable::Invalid);
        }
        let json = B64.decode(payload).map_err(|_| Unreadable::Invalid)?;
        let session: Session = serde_json::from_slice(&json).map_err(|_| Unreadable::Invalid)?;
        if session.expires_at > self.clock.now_secs() {
            Ok(session)
        } else {
            Err(Unreadable::Expired)
        }
    }

    /// A `Set-Cookie` value that makes the browser forget the session.
    pub(crate) fn clear(&self) -> HeaderValue {
        cookie_header(COOKIE, "", Some(Duration::ZERO), self.secure, true)
    }

    fn mac(&self, data: &str) -> Vec<u8> {
        let mut mac = hmac_with(&self.key);
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub(crate) fn secure(&self) -> bool {
        self.secure
    }
}

fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes keys of any length")
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
    use crate::base::clock::{system, ManualClock};

    fn keys() -> SessionKeys {
        SessionKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60), false, system())
    }

    fn value_of(header: &HeaderValue) -> String {
        let text = header.to_str().unwrap();
        text.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
    }

    #[test]
    fn round_trip() {
        let user = SsoUser { email: Some("a@example.com".into()), id: None };
        let header = keys().issue("uuid-1", Some(&user), false);
        let text = header.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax") && !text.contains("Secure"));
        let session = keys().verify(&value_of(&header)).unwrap();
        assert_eq!(session.uuid(), "uuid-1");
        assert_eq!(session.email(), Some("a@example.com"));
        assert!(!session.vouched() && session.vouched_email().is_none());
        let vouched = keys().verify(&value_of(&keys().issue("uuid-1", Some(&user), true))).unwrap();
        assert_eq!(vouched.vouched_email(), Some("a@example.com"));
        assert!(session.require("uuid-1").is_ok());
        assert_eq!(session.require("uuid-2").unwrap_err().status(), http::StatusCode::FORBIDDEN);
    }

    #[test]
    fn every_session_has_its_own_id() {
        let first = keys().verify(&value_of(&keys().issue("uuid-1", None, false))).unwrap();
        let second = keys().verify(&value_of(&keys().issue("uuid-1", None, false))).unwrap();
        assert_eq!(first.sid.len(), 32);
        assert_ne!(first.sid, second.sid);
        assert!(!format!("{first:?}").contains(&first.sid), "Debug does not show the session id");
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let value = value_of(&keys().issue("uuid-1", None, false));
        let (signed, mac) = value.rsplit_once('.').unwrap();
        let forged_payload = B64.encode(br#"{"r":"uuid-2","s":"x","x":99999999999}"#);
        assert_eq!(keys().verify(&format!("v1.{forged_payload}.{mac}")), Err(Unreadable::Invalid));
        assert_eq!(keys().verify(&format!("{signed}.AAAA")), Err(Unreadable::Invalid));
        let other =
            SessionKeys::new(b"another key, just as long as one", Duration::from_secs(60), false, system());
        assert_eq!(other.verify(&value), Err(Unreadable::Invalid));
        assert_eq!(keys().verify("garbage"), Err(Unreadable::Invalid));
    }

    #[test]
    fn a_cookie_signed_with_a_previous_key_verifies_during_a_rotation() {
        let key_a = b"key A: 0123456789abcdef0123456789".to_vec();
        let key_b = b"key B: 0123456789abcdef0123456789".to_vec();
        let ttl = Duration::from_secs(60);
        let old = value_of(&SessionKeys::new(&key_a, ttl, false, system()).issue("uuid-1", None, false));
        let rotating =
            SessionKeys::new(&key_b, ttl, false, system()).with_previous(std::slice::from_ref(&key_a));
        assert_eq!(rotating.verify(&old).unwrap().uuid(), "uuid-1");
        let new = value_of(&rotating.issue("uuid-1", None, false));
        let a_only = SessionKeys::new(&key_a, ttl, false, system());
        assert_eq!(a_only.verify(&new), Err(Unreadable::Invalid), "new cookies are signed with B");
        let b_only = SessionKeys::new(&key_b, ttl, false, system());
        assert!(b_only.verify(&new).is_ok());
        assert_eq!(b_only.verify(&old), Err(Unreadable::Invalid), "A dropped: its cookies are refused");
    }

    #[test]
    fn sessions_end_when_the_clock_passes_their_lifetime() {
        let clock = ManualClock::default();
        let keys = SessionKeys::new(b"k", Duration::from_secs(60), true, Arc::new(clock.clone()));
        let header = keys.issue("uuid-1", None, false);
        assert!(header.to_str().unwrap().contains("Secure"));
        clock.advance(Duration::from_secs(59));
        assert!(keys.verify(&value_of(&header)).is_ok());
        clock.advance(Duration::from_secs(1));
        assert_eq!(keys.verify(&value_of(&header)), Err(Unreadable::Expired));
    }

    #[test]
    fn clearing_expires_the_cookie_at_once() {
        let text = keys().clear().to_str().unwrap().to_owned();
        assert!(text.starts_with("addon_session=;") && text.contains("Max-Age=0"), "{text}");
    }
}
