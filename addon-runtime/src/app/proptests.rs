//! Property tests over every parser of the runtime that reads outside input: Basic auth, JSON
//! bodies and their content types, bodies read within a limit, SSO forms and links with their
//! tokens and timestamps, DigitalOcean's SSO form, and session cookies as a `Cookie` header
//! carries them.
//!
//! Each parser must never panic on any input, refuse with a 4xx what it cannot read, give back
//! what its writer wrote (a signed token verifies, an issued cookie reads as the same session),
//! and refuse a valid value with any one byte changed.
//!
//! The file sits under `app/` because it names every layer, which only the app layer may do
//! (`addon-runtime/tests/layers.rs`); `lib.rs` declares it as `crate::proptests`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use base64::Engine;
use proptest::prelude::*;

use crate::base::clock::{Clock, SharedClock};
use crate::base::protocol::{ProvisionRequest, SsoUser, TokenKind};
use crate::base::settings::UserScopedToken;
use crate::heroku::sso_token::{self, Refusal, Rules, SsoParams};
use crate::services::sessions::{self, SessionKeys, Unreadable};
use crate::web::basic_auth::BasicCredentials;
use crate::web::gate::Gate;
use crate::web::json;

/// Modest case counts: the whole suite runs in seconds in a debug build.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Any text, short or long, with control characters, non-ASCII and the separators parsers split
/// on (`:`, `.`, `;`, `=`, `&`, `%`) well represented.
fn text(max: usize) -> impl Strategy<Value = String> {
    let char = prop_oneof![
        4 => proptest::char::range(' ', '~'),
        1 => proptest::sample::select(vec![':', '.', ';', '=', '&', '%', '+', '\r', '\n', '\0', 'é', '\u{feff}', '😀']),
        1 => any::<char>(),
    ];
    proptest::collection::vec(char, 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// `value` with the character at `at` (modulo its length) replaced by `by`, or `None` when that
/// would change nothing or only the case of an ASCII letter (which hex digests tolerate).
fn flip(value: &str, at: usize, by: char) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    let at = at % chars.len().max(1);
    let old = *chars.get(at)?;
    if old.eq_ignore_ascii_case(&by) {
        return None;
    }
    let mut flipped = chars;
    flipped[at] = by;
    Some(flipped.into_iter().collect())
}

/// A clock stopped at a given second.
#[derive(Debug)]
struct StoppedAt(u64);

impl Clock for StoppedAt {
    fn now_ms(&self) -> i64 {
        i64::try_from(self.0 * 1000).unwrap()
    }
}

fn clock_at(seconds: u64) -> SharedClock {
    Arc::new(StoppedAt(seconds))
}

// ---------------------------------------------------------------------------------------------
// Basic auth (`heroku/auth.rs`)

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

proptest! {
    #![proptest_config(config(256))]

    /// Any header value a client can send is refused without a panic.
    #[test]
    fn basic_auth_refuses_any_header(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let auth = BasicCredentials::new("addon-slug", "super-secret-password");
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            prop_assert!(!auth.accepts(Some(&value)));
        }
    }

    /// Base64 of anything after `Basic `: decoded, split and compared without a panic, and
    /// refused unless it is the credentials.
    #[test]
    fn basic_auth_refuses_any_decoded_text(decoded in proptest::collection::vec(any::<u8>(), 0..300)) {
        let auth = BasicCredentials::new("addon-slug", "super-secret-password");
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&decoded));
        prop_assert!(!auth.accepts(Some(&HeaderValue::from_str(&value).unwrap())));
    }

    /// What a client writes for the right credentials is accepted, the scheme in any case; the
    /// same with any one character of the encoded part changed is refused.
    #[test]
    fn basic_auth_round_trips_and_refuses_mutations(
        user in text(40).prop_filter("no colon in an id", |u| !u.contains(':')),
        password in text(80),
        upper in any::<bool>(),
        at in any::<usize>(),
        by in proptest::char::range('!', '~'),
    ) {
        let auth = BasicCredentials::new(&user, &password);
        let value = basic(&user, &password);
        let value = if upper { value.replacen("Basic", "BASIC", 1) } else { value };
        prop_assert!(auth.accepts(Some(&HeaderValue::from_str(&value).unwrap())));

        let encoded = &value["Basic ".len()..];
        if let Some(mutated) = flip(encoded, at, by) {
            let header = HeaderValue::from_str(&format!("Basic {mutated}")).unwrap();
            prop_assert!(!auth.accepts(Some(&header)), "{mutated} was accepted");
        }
        let wrong = basic(&user, &(password + "x"));
        prop_assert!(!auth.accepts(Some(&HeaderValue::from_str(&wrong).unwrap())));
    }
}

// ---------------------------------------------------------------------------------------------
// JSON bodies (`web/json.rs`)

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some(json::HEROKU_ADDONS_JSON.to_owned())),
        Just(Some("APPLICATION/JSON; charset=utf-8".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("text/plain".to_owned())),
        text(60).prop_map(Some),
    ]
}

fn headers_with(content_type: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers
}

/// A provision request whose `field` holds arrays and objects `depth` deep, closed or not.
fn deep_json(field: &str, depth: usize, closed: bool) -> Vec<u8> {
    let mut text = format!("{{\"uuid\":\"u\",\"plan\":\"p\",\"{field}\":{{\"k\":");
    for i in 0..depth {
        text.push_str(if i % 2 == 0 { "[" } else { "{\"a\":" });
    }
    text.push('1');
    if closed {
        for i in (0..depth).rev() {
            text.push(if i % 2 == 0 { ']' } else { '}' });
        }
        text.push_str("}}");
    }
    text.into_bytes()
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes under any content type: a value or a 4xx with a message, never a panic.
    #[test]
    fn json_bodies_never_panic(
        content_type in content_type(),
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            text(400).prop_map(String::into_bytes),
        ],
    ) {
        let headers = headers_with(content_type.as_deref());
        match json::parse::<ProvisionRequest>("provision request", 1024, &headers, Ok(Bytes::from(bytes))) {
            Ok(_) => {}
            Err(refusal) => {
                prop_assert!(refusal.status().is_client_error(), "{}", refusal.status());
                prop_assert!(!refusal.message().is_empty());
            }
        }
    }

    /// JSON nested thousands deep, closed or cut short: in a field that is read, a 400 (serde's
    /// depth limit), not a stack overflow; in a field that is skipped, skipped without
    /// recursion, and a 400 only if cut short.
    #[test]
    fn deep_json_is_bounded(depth in 200usize..20_000, closed in any::<bool>(), read in any::<bool>()) {
        let field = if read { "options" } else { "a_field_heroku_adds_later" };
        let body = deep_json(field, depth, closed);
        let result = json::parse::<ProvisionRequest>("provision request", usize::MAX, &HeaderMap::new(), Ok(body.into()));
        match result {
            Ok(_) => prop_assert!(closed && !read, "{field} nested {depth} deep was taken"),
            Err(refusal) => {
                prop_assert!(read || !closed, "{}", refusal.message());
                prop_assert_eq!(refusal.status(), StatusCode::BAD_REQUEST, "{}", refusal.message());
            }
        }
    }

    /// A request Heroku could send, written as JSON, reads back field for field.
    #[test]
    fn provision_requests_round_trip(
        uuid in text(60),
        plan in text(30),
        region in proptest::option::of(text(40)),
        options in proptest::collection::btree_map(text(20), text(40), 0..5),
        drain_token in proptest::option::of(text(40)),
        unknown in text(20),
    ) {
        let mut written = serde_json::json!({
            "uuid": uuid, "plan": plan, "region": region, "options": options,
            "log_drain_token": drain_token, "a_field_heroku_adds_later": {"nested": [unknown]},
        });
        if region.is_none() {
            written.as_object_mut().unwrap().remove("region");
        }
        let headers = headers_with(Some(json::HEROKU_ADDONS_JSON));
        let read: ProvisionRequest =
            json::parse("provision request", usize::MAX, &headers, Ok(written.to_string().into())).unwrap();
        prop_assert_eq!(read.uuid, uuid);
        prop_assert_eq!(read.plan, plan);
        prop_assert_eq!(read.region, region);
        prop_assert_eq!(read.options, options);
        prop_assert_eq!(read.log_drain_token, drain_token);
    }

    /// Only JSON media types pass; every other one is a 415 that names what to send.
    #[test]
    fn content_types_are_judged_by_their_essence(subtype in "[a-z0-9.-]{1,20}", params in "[ -~]{0,30}") {
        let body = || Ok(Bytes::from_static(br#"{"uuid":"u","plan":"p"}"#));
        for (essence, json) in [
            (format!("application/{subtype}+json"), true),
            (format!("text/{subtype}"), false),
            (format!("application/{subtype}"), subtype == "json"),
        ] {
            let value = format!("{essence};{params}");
            let Ok(header) = HeaderValue::from_str(&value) else { continue };
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, header);
            let read = json::parse::<ProvisionRequest>("provision request", 1024, &headers, body());
            match read {
                Ok(_) => prop_assert!(json, "{value} was taken as JSON"),
                Err(refusal) => {
                    prop_assert!(!json, "{value}: {}", refusal.message());
                    prop_assert_eq!(refusal.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
                    prop_assert!(refusal.message().contains("application/"), "{}", refusal.message());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies read within a limit (`web/body.rs`)

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Heroku's routes' body reader in front of a handler that echoes the length it was handed.
async fn read_through_limit(limit: usize, bytes: Vec<u8>) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::Service;
    let mut router = axum::Router::new()
        .route("/", axum::routing::post(|body: Bytes| async move { body.len().to_string() }))
        .route_layer(Gate::body(limit));
    let request = Request::post("/").body(Body::from(bytes)).unwrap();
    let response = router.call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body)
}

proptest! {
    #![proptest_config(config(128))]

    /// A body within the limit reaches the handler whole; one over it is a JSON 413 that says
    /// the limit, and the handler never sees it.
    #[test]
    fn bodies_are_read_whole_or_refused_at_the_limit(limit in 0usize..4096, len in 0usize..8192) {
        let (status, body) = runtime().block_on(read_through_limit(limit, vec![b'x'; len]));
        if len <= limit {
            prop_assert_eq!(status, StatusCode::OK);
            prop_assert_eq!(String::from_utf8(body).unwrap(), len.to_string());
        } else {
            prop_assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
            let refusal: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert!(refusal["message"].as_str().is_some_and(|m| m.contains(&limit.to_string())), "{refusal}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SSO forms, links, tokens and timestamps (`heroku/sso.rs`, `heroku/sso_token.rs`)

const NOW: u64 = 1_700_000_000;

fn rules(salt: &str) -> Rules<'_> {
    Rules { salt, now_unix: NOW, window: Duration::from_secs(300), user_scoped: UserScopedToken::Verify }
}

/// The form's fields as the dashboard posts them, read back as the runtime reads a form body.
fn posted(fields: &[(&str, &str)]) -> SsoParams {
    let body = serde_urlencoded::to_string(fields).unwrap();
    serde_urlencoded::from_bytes(body.as_bytes()).expect("a form the dashboard writes is read")
}

#[derive(Debug)]
struct Login {
    salt: String,
    uuid: String,
    timestamp: String,
    user_id: String,
    email: String,
}

impl Login {
    fn user_scoped(&self) -> Vec<(&'static str, String)> {
        let Login { salt, uuid, timestamp, user_id, email } = self;
        let token = sso_token::sha256_hex(&format!("{uuid}:{salt}:{timestamp}:{user_id}:{email}"));
        vec![
            ("resource_id", uuid.clone()),
            ("timestamp", timestamp.clone()),
            ("user_id", user_id.clone()),
            ("email", email.clone()),
            ("user_scoped_resource_token", token),
        ]
    }

    fn resource(&self) -> Vec<(&'static str, String)> {
        let Login { salt, uuid, timestamp, .. } = self;
        let token = sso_token::sha1_hex(&format!("{uuid}:{salt}:{timestamp}"));
        vec![("resource_id", uuid.clone()), ("timestamp", timestamp.clone()), ("resource_token", token)]
    }

    fn legacy(&self) -> Vec<(&'static str, String)> {
        let Login { salt, uuid, timestamp, .. } = self;
        let token = sso_token::sha1_hex(&format!("{uuid}:{salt}:{timestamp}"));
        vec![("id", uuid.clone()), ("timestamp", timestamp.clone()), ("token", token)]
    }
}

fn login() -> impl Strategy<Value = Login> {
    (text(40).prop_filter("a salt", |s| !s.is_empty()), text(60), -300i64..=300, text(30), text(80)).prop_map(
        |(salt, uuid, offset, user_id, email)| Login {
            salt,
            uuid,
            timestamp: NOW.saturating_add_signed(offset).to_string(),
            user_id,
            email,
        },
    )
}

fn verify(fields: &[(&'static str, String)], salt: &str) -> Result<sso_token::Verified, Refusal> {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sso_token::verify(&posted(&pairs), &rules(salt))
}

proptest! {
    #![proptest_config(config(256))]

    /// Any form body or link query: read or refused as malformed, and never verified, without a
    /// panic.
    #[test]
    fn any_sso_form_is_refused_without_a_panic(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            text(400).prop_map(String::into_bytes),
            proptest::collection::vec((
                proptest::sample::select(vec!["resource_id", "resource_token", "user_scoped_resource_token", "id", "token", "timestamp", "email", "user_id", "nav-data", "app"]),
                text(40),
            ), 0..8).prop_map(|pairs| serde_urlencoded::to_string(pairs).unwrap().into_bytes()),
        ],
    ) {
        if let Ok(params) = serde_urlencoded::from_bytes::<SsoParams>(&bytes) {
            prop_assert!(sso_token::verify(&params, &rules("the-salt")).is_err());
        }
        if let Ok(params) = serde_urlencoded::from_str::<SsoParams>(&String::from_utf8_lossy(&bytes)) {
            prop_assert!(sso_token::verify(&params, &rules("the-salt")).is_err());
        }
    }

    /// Any timestamp against any clock and window: the answer is the arithmetic's, done without
    /// overflow (a refusal at the edges of u64, never a panic).
    #[test]
    fn timestamps_are_judged_without_overflow(
        seconds in prop_oneof![any::<u64>(), Just(u64::MAX), Just(0u64), (NOW - 400..NOW + 400)],
        now in prop_oneof![any::<u64>(), Just(u64::MAX), Just(0u64), Just(NOW)],
        window in prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..1000],
    ) {
        let salt = "the-salt";
        let timestamp = seconds.to_string();
        let token = sso_token::sha1_hex(&format!("123:{salt}:{timestamp}"));
        let params = SsoParams {
            id: Some("123".into()),
            token: Some(token),
            timestamp: Some(timestamp),
            ..SsoParams::default()
        };
        let rules = Rules { salt, now_unix: now, window: Duration::from_secs(window), user_scoped: UserScopedToken::Verify };
        let (seconds, now, window) = (u128::from(seconds), u128::from(now), u128::from(window));
        let expected = if seconds + window < now {
            Err(Refusal::Stale)
        } else if seconds > now + window {
            Err(Refusal::Future)
        } else {
            Ok(TokenKind::Legacy)
        };
        prop_assert_eq!(sso_token::verify(&params, &rules).map(|v| v.kind), expected);
    }

    /// Timestamps that are not a number of seconds are refused as such (or, past 24 bytes, as
    /// too long before they are parsed).
    #[test]
    fn timestamps_that_are_not_numbers_are_refused(timestamp in text(40)) {
        let params = SsoParams { timestamp: Some(timestamp.clone()), ..SsoParams::default() };
        let result = sso_token::verify(&params, &rules("the-salt")).map(|v| v.kind);
        if timestamp.len() > 24 {
            prop_assert_eq!(result, Err(Refusal::TooLong { field: "timestamp", max: 24 }));
        } else if timestamp.trim().parse::<u64>().is_err() {
            prop_assert_eq!(result, Err(Refusal::BadTimestamp));
        } else {
            prop_assert!(result.is_err());
        }
    }

    /// A form the dashboard signs verifies, for every kind of token, with the resource and the
    /// user it names.
    #[test]
    fn signed_forms_verify(login in login()) {
        let verified = verify(&login.user_scoped(), &login.salt).unwrap();
        prop_assert_eq!(verified.kind, TokenKind::UserScoped);
        prop_assert_eq!(&verified.resource, &login.uuid);
        let user = verified.user.unwrap();
        prop_assert_eq!(user.email.as_deref(), Some(login.email.as_str()));
        prop_assert_eq!(user.id.as_deref(), Some(login.user_id.as_str()));

        let verified = verify(&login.resource(), &login.salt).unwrap();
        prop_assert_eq!((verified.kind, &verified.resource), (TokenKind::Resource, &login.uuid));
        let verified = verify(&login.legacy(), &login.salt).unwrap();
        prop_assert_eq!((verified.kind, &verified.resource), (TokenKind::Legacy, &login.uuid));
    }

    /// The same forms with any one character of any field changed are refused: the token, the
    /// resource, the timestamp, and for user-scoped tokens the user's id and email.
    #[test]
    fn changed_forms_are_refused(
        login in login(),
        kind in 0..3usize,
        field in any::<usize>(),
        at in any::<usize>(),
        by in any::<char>(),
    ) {
        let mut fields = match kind {
            0 => login.user_scoped(),
            1 => login.resource(),
            _ => login.legacy(),
        };
        let field = field % fields.len();
        let Some(changed) = flip(&fields[field].1, at, by) else { return Ok(()) };
        // A timestamp that only gains or loses surrounding blanks is the same timestamp.
        if fields[field].0 == "timestamp" && changed.trim() == fields[field].1 {
            return Ok(());
        }
        fields[field].1 = changed;
        prop_assert!(verify(&fields, &login.salt).is_err(), "{fields:?} verified");
    }

    /// The salt is what signs: a form signed with another one is refused.
    #[test]
    fn another_salt_is_refused(login in login(), other in text(40)) {
        prop_assume!(other != login.salt);
        prop_assert!(verify(&login.user_scoped(), &other).is_err());
        prop_assert!(verify(&login.resource(), &other).is_err());
        prop_assert!(verify(&login.legacy(), &other).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Session cookies (`services/sessions.rs`)

fn keys(key: &[u8]) -> SessionKeys {
    SessionKeys::new(key, Duration::from_secs(3600), true, clock_at(NOW))
}

/// The cookie's value from a `Set-Cookie` header.
fn cookie_value(set_cookie: &HeaderValue) -> String {
    let text = set_cookie.to_str().unwrap();
    let pair = text.split(';').next().unwrap();
    pair.strip_prefix(&format!("{}=", sessions::COOKIE)).unwrap().to_owned()
}

/// What the browser sends back: the session among other cookies.
fn read_back(cookie_header: &str) -> Option<String> {
    let request = Request::get("/").header(header::COOKIE, cookie_header).body(()).unwrap();
    let (parts, ()) = request.into_parts();
    sessions::read_cookie(&parts, sessions::COOKIE).map(str::to_owned)
}

proptest! {
    #![proptest_config(config(192))]

    /// A session issued for any resource and user, sent back among other cookies, reads as the
    /// same session.
    #[test]
    fn cookies_round_trip(
        key in proptest::collection::vec(any::<u8>(), 1..64),
        uuid in text(60),
        email in proptest::option::of(text(120)),
        user_id in proptest::option::of(text(40)),
        before in "[a-z_]{1,10}=[a-zA-Z0-9]{0,20}",
        vouched in any::<bool>(),
    ) {
        let keys = keys(&key);
        let user = SsoUser { email: email.clone(), id: user_id.clone() };
        let set_cookie = keys.issue(&uuid, Some(&user), vouched);
        let value = cookie_value(&set_cookie);
        prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{value}");
        let sent = format!("{before}; {}={value}; theme=dark", sessions::COOKIE);
        let read = read_back(&sent).expect("the cookie is found among the others");
        let session = keys.verify(&read).unwrap();
        prop_assert_eq!(session.uuid(), uuid.as_str());
        prop_assert_eq!(session.email(), email.as_deref());
        prop_assert_eq!(session.user_id(), user_id.as_deref());
        prop_assert_eq!(session.vouched(), vouched);
        prop_assert_eq!(session.expires_at(), NOW + 3600);
    }

    /// Any one character of a genuine cookie changed, or the cookie cut short or lengthened:
    /// refused as invalid (not merely expired), without a panic.
    #[test]
    fn changed_cookies_are_refused(
        uuid in text(40),
        at in any::<usize>(),
        by in prop_oneof![proptest::sample::select(b"AZaz09-_.=+/ ".to_vec()).prop_map(char::from), any::<char>()],
        cut in any::<usize>(),
        extra in "[A-Za-z0-9_-]{1,4}",
    ) {
        let keys = keys(b"a session key of thirty-two bytes");
        let value = cookie_value(&keys.issue(&uuid, Some(&SsoUser { email: Some("a@example.com".into()), id: None }), false));
        if let Some(changed) = flip(&value, at, by) {
            prop_assert_eq!(keys.verify(&changed), Err(Unreadable::Invalid), "{}", changed);
        }
        let cut = cut % value.len();
        prop_assert_eq!(keys.verify(&value[..cut]), Err(Unreadable::Invalid));
        let lengthened = format!("{value}{extra}");
        prop_assert_eq!(keys.verify(&lengthened), Err(Unreadable::Invalid));
    }

    /// Any `Cookie` header a client can send: read without a panic, and never a session.
    #[test]
    fn any_cookie_header_is_refused(
        header_value in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            text(600),
            text(300).prop_map(|t| format!("{}=v1.{t}", sessions::COOKIE)),
            (text(200), text(60)).prop_map(|(p, m)| format!("{}=v1.{}.{}", sessions::COOKIE,
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p), m)),
        ],
    ) {
        let keys = keys(b"a session key of thirty-two bytes");
        let request = Request::get("/").body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        if let Ok(value) = HeaderValue::from_bytes(header_value.as_bytes()) {
            parts.headers.insert(header::COOKIE, value);
        }
        if let Some(value) = sessions::read_cookie(&parts, sessions::COOKIE) {
            prop_assert_eq!(keys.verify(value), Err(Unreadable::Invalid));
        }
        prop_assert_eq!(keys.verify(&header_value), Err(Unreadable::Invalid));
    }

    /// Expiry is read from the clock, and only a genuine cookie is ever called expired.
    #[test]
    fn cookies_expire_by_the_clock(after in 0u64..10_000) {
        let issued = keys(b"k").issue("uuid-1", None, false);
        let later = SessionKeys::new(b"k", Duration::from_secs(3600), true, clock_at(NOW + after));
        let expected = if after < 3600 { Ok("uuid-1".to_owned()) } else { Err(Unreadable::Expired) };
        prop_assert_eq!(later.verify(&cookie_value(&issued)).map(|s| s.uuid().to_owned()), expected);
    }
}

/// DigitalOcean's SSO form: its token is HMAC-SHA256 over `"{timestamp}:{resource_uuid}"`.
mod digitalocean_sso {
    use proptest::prelude::*;

    use super::{config, flip, text};
    use crate::digitalocean::sso_token::{sign, verify, Refusal, SsoForm};

    const NOW: u64 = 1_700_000_000;
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

    fn signed(salt: &str, uuid: &str, timestamp: u64) -> SsoForm {
        SsoForm {
            resource_uuid: Some(uuid.to_owned()),
            token: Some(sign(salt, &timestamp.to_string(), uuid)),
            timestamp: Some(timestamp.to_string()),
            user_email: Some("u@example.com".to_owned()),
            user_id: Some("1".to_owned()),
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_form_is_refused_without_a_panic(
            uuid in proptest::option::of(text(200)),
            token in proptest::option::of(text(200)),
            timestamp in proptest::option::of(text(30)),
            email in proptest::option::of(text(300)),
            now in any::<u64>(),
        ) {
            let form = SsoForm { resource_uuid: uuid, token, timestamp, user_email: email, user_id: None };
            prop_assert!(verify(&form, "salt", now, WINDOW).is_err());
        }

        #[test]
        fn signed_forms_verify_within_the_window(
            uuid in "[a-z0-9-]{1,64}",
            salt in text(64),
            skew in -300i64..=300,
        ) {
            let timestamp = NOW.saturating_add_signed(skew);
            let verified = verify(&signed(&salt, &uuid, timestamp), &salt, NOW, WINDOW);
            prop_assert_eq!(verified.map(|v| v.resource), Ok(uuid));
        }

        #[test]
        fn changed_tokens_and_resources_are_refused(
            uuid in "[a-z0-9-]{1,64}",
            at in any::<usize>(),
            by in proptest::char::range('0', 'z'),
        ) {
            let form = signed("salt", &uuid, NOW);
            if let Some(token) = flip(form.token.as_deref().unwrap_or_default(), at, by) {
                let changed = SsoForm { token: Some(token), ..form.clone() };
                prop_assert_eq!(verify(&changed, "salt", NOW, WINDOW).err(), Some(Refusal::BadToken));
            }
            if let Some(other) = flip(&uuid, at, by) {
                let moved = SsoForm { resource_uuid: Some(other), ..form };
                prop_assert!(verify(&moved, "salt", NOW, WINDOW).is_err());
            }
        }
    }
}
