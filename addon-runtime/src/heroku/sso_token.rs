//! Verifying Heroku's SSO tokens. Pure functions of the form, the salt and the clock, so every
//! rule is unit-tested without a server.

use std::time::Duration;

use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base::protocol::{SsoUser, TokenKind};
use crate::base::settings::UserScopedToken;

/// Every parameter Heroku has been seen to send with an SSO login (form post or legacy query).
/// All optional: which ones are present decides which token is checked.
#[derive(Clone, Default, Deserialize)]
pub(crate) struct SsoParams {
    pub(crate) resource_id: Option<String>,
    pub(crate) resource_token: Option<String>,
    pub(crate) user_scoped_resource_token: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) timestamp: Option<String>,
    #[serde(rename = "nav-data")]
    pub(crate) nav_data: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) app: Option<String>,
    pub(crate) context_app: Option<String>,
    pub(crate) attached_app: Option<String>,
    pub(crate) owning_app: Option<String>,
}

/// A login whose token checked out.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The resource as the token named it: a uuid (v3 tokens) or the provision answer's id (legacy).
    pub(crate) resource: String,
    pub(crate) kind: TokenKind,
    /// Vouched for by the token only when `kind` is `UserScoped`.
    pub(crate) user: Option<SsoUser>,
    /// A digest of the token that verified: the same form posted twice gives the same proof.
    pub(crate) proof: String,
    /// Unix seconds after which this form is refused as stale anyway.
    pub(crate) valid_until: u64,
}

/// Why a login was refused. The user only ever sees a generic message; this goes to the log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    MissingTimestamp,
    BadTimestamp,
    Stale,
    Future,
    NoToken,
    WrongToken(TokenKind),
    /// `ADDON_SSO_USER_SCOPED_TOKEN=require` and the form carries no user-scoped token.
    UserScopedRequired,
    /// A field longer than anything Heroku sends; refused before any digest is computed.
    TooLong {
        field: &'static str,
        max: usize,
    },
}

impl Refusal {
    pub(crate) fn user_message(&self) -> &'static str {
        match self {
            Refusal::Stale | Refusal::Future => {
                "This sign-in link has expired. Open the add-on again from the Heroku dashboard."
            }
            Refusal::UserScopedRequired => {
                "This add-on signs in only users Heroku vouches for, and this sign-in did not say who \
                 you are. Open the add-on again from the Heroku dashboard."
            }
            _ => "This sign-in link is not valid. Open the add-on again from the Heroku dashboard.",
        }
    }
}

pub(crate) struct Rules<'a> {
    pub(crate) salt: &'a str,
    pub(crate) now_unix: u64,
    pub(crate) window: Duration,
    pub(crate) user_scoped: UserScopedToken,
}

/// The longest an email address can be (RFC 5321's path limit, less its brackets).
pub(crate) const EMAIL_MAX: usize = 254;
/// Ids, app names and uuids: Heroku's are far shorter; this only keeps junk out of cookies.
const NAME_MAX: usize = 255;
/// A sha256 digest is 64 hex characters; room for whitespace around it.
const TOKEN_MAX: usize = 128;
/// `u64::MAX` has 20 digits.
const TIMESTAMP_MAX: usize = 24;

/// Checks field sizes, the timestamp window, then the strongest token the form carries.
pub(crate) fn verify(params: &SsoParams, rules: &Rules<'_>) -> Result<Verified, Refusal> {
    check_sizes(params)?;
    let timestamp = params.timestamp.as_deref().map(str::trim).ok_or(Refusal::MissingTimestamp)?;
    let seconds: u64 = timestamp.parse().map_err(|_| Refusal::BadTimestamp)?;
    let window = rules.window.as_secs();
    // Saturating: a timestamp near u64::MAX is a refusal, never an overflow.
    if seconds.saturating_add(window) < rules.now_unix {
        return Err(Refusal::Stale);
    }
    if seconds > rules.now_unix.saturating_add(window) {
        return Err(Refusal::Future);
    }
    let salt = rules.salt;
    let user = || {
        (params.email.is_some() || params.user_id.is_some())
            .then(|| SsoUser { email: params.email.clone(), id: params.user_id.clone() })
    };
    let verified = |resource: &str, kind: TokenKind, token: &str| Verified {
        resource: resource.to_owned(),
        kind,
        user: user(),
        proof: sha256_hex(&format!("{kind:?}:{}", token.trim().to_ascii_lowercase())),
        valid_until: seconds.saturating_add(window),
    };

    let user_scoped = params.user_scoped_resource_token.as_ref();
    match (user_scoped, rules.user_scoped) {
        (Some(token), UserScopedToken::Verify | UserScopedToken::Require) => {
            let uuid = params.resource_id.as_deref().ok_or(Refusal::WrongToken(TokenKind::UserScoped))?;
            let user_id = params.user_id.as_deref().unwrap_or_default();
            let email = params.email.as_deref().unwrap_or_default();
            let expected = sha256_hex(&format!("{uuid}:{salt}:{timestamp}:{user_id}:{email}"));
            return check(token, &expected, TokenKind::UserScoped).map(|kind| verified(uuid, kind, token));
        }
        (None, UserScopedToken::Require) => return Err(Refusal::UserScopedRequired),
        _ => {}
    }
    if let (Some(token), Some(uuid)) = (&params.resource_token, &params.resource_id) {
        let expected = sha1_hex(&format!("{uuid}:{salt}:{timestamp}"));
        return check(token, &expected, TokenKind::Resource).map(|kind| verified(uuid, kind, token));
    }
    if let (Some(token), Some(id)) = (&params.token, &params.id) {
        let expected = sha1_hex(&format!("{id}:{salt}:{timestamp}"));
        return check(token, &expected, TokenKind::Legacy).map(|kind| verified(id, kind, token));
    }
    Err(Refusal::NoToken)
}

/// Every field within what Heroku could send, so an oversize value is refused with a reason
/// rather than hashed, stored in a cookie (which browsers drop past 4 KB) and shown on a page.
fn check_sizes(params: &SsoParams) -> Result<(), Refusal> {
    let fields = [
        ("email", &params.email, EMAIL_MAX),
        ("user_id", &params.user_id, NAME_MAX),
        ("resource_id", &params.resource_id, NAME_MAX),
        ("id", &params.id, NAME_MAX),
        ("app", &params.app, NAME_MAX),
        ("context_app", &params.context_app, NAME_MAX),
        ("attached_app", &params.attached_app, NAME_MAX),
        ("owning_app", &params.owning_app, NAME_MAX),
        ("resource_token", &params.resource_token, TOKEN_MAX),
        ("user_scoped_resource_token", &params.user_scoped_resource_token, TOKEN_MAX),
        ("token", &params.token, TOKEN_MAX),
        ("timestamp", &params.timestamp, TIMESTAMP_MAX),
    ];
    match fields.into_iter().find(|(_, value, max)| value.as_ref().is_some_and(|v| v.len() > *max)) {
        Some((field, _, max)) => Err(Refusal::TooLong { field, max }),
        None => Ok(()),
    }
}

/// Constant-time comparison of hex digests; Heroku sends lower case, upper case is tolerated.
fn check(given: &str, expected: &str, kind: TokenKind) -> Result<TokenKind, Refusal> {
    let given = given.trim().to_ascii_lowercase();
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(kind)
    } else {
        Err(Refusal::WrongToken(kind))
    }
}

pub(crate) fn sha1_hex(input: &str) -> String {
    hex(&Sha1::digest(input.as_bytes()))
}

pub(crate) fn sha256_hex(input: &str) -> String {
    hex(&Sha256::digest(input.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "2f97bfa52ca102f8874716e2eb1d3b4920ad0be4";
    const NOW: u64 = 1_267_597_772;

    fn rules() -> Rules<'static> {
        Rules {
            salt: SALT,
            now_unix: NOW,
            window: Duration::from_secs(300),
            user_scoped: UserScopedToken::Verify,
        }
    }

    fn legacy(id: &str, ts: u64, token: &str) -> SsoParams {
        SsoParams {
            id: Some(id.into()),
            token: Some(token.into()),
            timestamp: Some(ts.to_string()),
            ..SsoParams::default()
        }
    }

    #[test]
    fn the_documented_test_vector() {
        assert_eq!(sha1_hex(&format!("123:{SALT}:1267597772")), "bb466eb1d6bc345d11072c3cd25c311f21be130d");
        let ok = verify(&legacy("123", NOW, "bb466eb1d6bc345d11072c3cd25c311f21be130d"), &rules()).unwrap();
        assert_eq!((ok.resource.as_str(), ok.kind), ("123", TokenKind::Legacy));
        let upper = legacy("123", NOW, "BB466EB1D6BC345D11072C3CD25C311F21BE130D");
        assert!(verify(&upper, &rules()).is_ok());
    }

    // The v3 vectors' digests were computed outside this code (Python's hashlib), so the
    // verifier is checked against more than the test kit's signers; addon-testing's signer
    // tests hold the same literals.
    const UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

    #[test]
    fn the_resource_token_vector() {
        let params = SsoParams {
            resource_id: Some(UUID.into()),
            resource_token: Some("7659cc00fc08ff8b7bb76cd8c9762bcf528b4173".into()),
            timestamp: Some(NOW.to_string()),
            ..SsoParams::default()
        };
        let ok = verify(&params, &rules()).unwrap();
        assert_eq!((ok.resource.as_str(), ok.kind), (UUID, TokenKind::Resource));
    }

    #[test]
    fn the_user_scoped_token_vector() {
        let params = SsoParams {
            resource_id: Some(UUID.into()),
            user_scoped_resource_token: Some(
                "b43df214fae6feb52c91ac1a658f9aa5c6a59ade31147a4fd6f148e7fe772936".into(),
            ),
            timestamp: Some(NOW.to_string()),
            user_id: Some("user-1".into()),
            email: Some("user@example.com".into()),
            ..SsoParams::default()
        };
        let ok = verify(&params, &rules()).unwrap();
        assert_eq!((ok.resource.as_str(), ok.kind), (UUID, TokenKind::UserScoped));
    }

    #[test]
    fn the_window_holds_both_ways() {
        let at = |ts: u64| {
            let token = sha1_hex(&format!("123:{SALT}:{ts}"));
            verify(&legacy("123", ts, &token), &rules()).map(|v| v.kind)
        };
        assert!(at(NOW - 300).is_ok());
        assert!(at(NOW + 300).is_ok());
        assert_eq!(at(NOW - 301), Err(Refusal::Stale));
        assert_eq!(at(NOW + 301), Err(Refusal::Future));
        // At the edge of u64, a refusal, never an overflow (a panic in debug builds).
        assert_eq!(at(u64::MAX), Err(Refusal::Future));
        let far_future = Rules { now_unix: u64::MAX, ..rules() };
        assert_eq!(verify(&legacy("123", 0, "x"), &far_future).map(|v| v.kind), Err(Refusal::Stale));
    }

    #[test]
    fn a_token_for_another_resource_is_refused() {
        let token_for_456 = sha1_hex(&format!("456:{SALT}:{NOW}"));
        assert_eq!(
            verify(&legacy("123", NOW, &token_for_456), &rules()).unwrap_err(),
            Refusal::WrongToken(TokenKind::Legacy)
        );
    }

    #[test]
    fn user_scoped_tokens_cover_the_user() {
        let uuid = "01234567-89ab-cdef-0123-456789abcdef";
        let token = sha256_hex(&format!("{uuid}:{SALT}:{NOW}:user-1:a@example.com"));
        let mut params = SsoParams {
            resource_id: Some(uuid.into()),
            user_scoped_resource_token: Some(token),
            resource_token: Some(sha1_hex(&format!("{uuid}:{SALT}:{NOW}"))),
            timestamp: Some(NOW.to_string()),
            user_id: Some("user-1".into()),
            email: Some("a@example.com".into()),
            ..SsoParams::default()
        };
        let ok = verify(&params, &rules()).unwrap();
        assert_eq!(ok.kind, TokenKind::UserScoped);
        assert_eq!(ok.user.unwrap().email.as_deref(), Some("a@example.com"));

        // A forged email breaks the user-scoped token even though the resource token still holds.
        params.email = Some("mallory@example.com".into());
        assert_eq!(verify(&params, &rules()).unwrap_err(), Refusal::WrongToken(TokenKind::UserScoped));

        // Unless the vendor chose to ignore user-scoped tokens.
        let ignoring = Rules { user_scoped: UserScopedToken::Ignore, ..rules() };
        assert_eq!(verify(&params, &ignoring).unwrap().kind, TokenKind::Resource);
    }

    #[test]
    fn require_refuses_logins_without_a_user_scoped_token() {
        let requiring = Rules { user_scoped: UserScopedToken::Require, ..rules() };
        let token = sha1_hex(&format!("123:{SALT}:{NOW}"));
        assert_eq!(verify(&legacy("123", NOW, &token), &requiring).unwrap_err(), Refusal::UserScopedRequired);
        let uuid = "01234567-89ab-cdef-0123-456789abcdef";
        let params = SsoParams {
            resource_id: Some(uuid.into()),
            user_scoped_resource_token: Some(sha256_hex(&format!("{uuid}:{SALT}:{NOW}:u:a@example.com"))),
            timestamp: Some(NOW.to_string()),
            user_id: Some("u".into()),
            email: Some("a@example.com".into()),
            ..SsoParams::default()
        };
        assert_eq!(verify(&params, &requiring).unwrap().kind, TokenKind::UserScoped);
    }

    #[test]
    fn oversize_fields_are_refused_by_name() {
        let token = sha1_hex(&format!("123:{SALT}:{NOW}"));
        let mut params = legacy("123", NOW, &token);
        params.email = Some(format!("{}@example.com", "a".repeat(242)));
        assert_eq!(params.email.as_ref().unwrap().len(), 254);
        assert!(verify(&params, &rules()).is_ok(), "254 bytes is a valid length");
        params.email = Some(format!("{}@example.com", "a".repeat(243)));
        assert_eq!(
            verify(&params, &rules()).unwrap_err(),
            Refusal::TooLong { field: "email", max: EMAIL_MAX }
        );
        let long_id = legacy(&"9".repeat(256), NOW, &token);
        assert_eq!(verify(&long_id, &rules()).unwrap_err(), Refusal::TooLong { field: "id", max: 255 });
    }

    #[test]
    fn the_same_form_gives_the_same_proof_and_another_form_another() {
        let at = |ts: u64| {
            let token = sha1_hex(&format!("123:{SALT}:{ts}"));
            verify(&legacy("123", ts, &token), &rules()).unwrap()
        };
        assert_eq!(at(NOW).proof, at(NOW).proof);
        assert_ne!(at(NOW).proof, at(NOW - 1).proof);
        assert_eq!(at(NOW).valid_until, NOW + 300);
    }

    #[test]
    fn missing_pieces_are_refused() {
        assert_eq!(verify(&SsoParams::default(), &rules()).unwrap_err(), Refusal::MissingTimestamp);
        let no_token = SsoParams { timestamp: Some(NOW.to_string()), ..SsoParams::default() };
        assert_eq!(verify(&no_token, &rules()).unwrap_err(), Refusal::NoToken);
        let bad_ts = SsoParams { timestamp: Some("soon".into()), ..SsoParams::default() };
        assert_eq!(verify(&bad_ts, &rules()).unwrap_err(), Refusal::BadTimestamp);
    }
}
