//! Verifying DigitalOcean's SSO token: `hex(HMAC-SHA256(key = ADDON_DO_SSO_SALT, message =
//! "{timestamp}:{resource_uuid}"))`, as DigitalOcean's sample add-on checks it. Pure functions
//! of the form, the salt and the clock, so every rule is unit-tested without a server.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The form DigitalOcean posts. Every field optional, so a missing one is refused by name.
#[derive(Clone, Default, Deserialize)]
pub(crate) struct SsoForm {
    pub(crate) resource_uuid: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) user_email: Option<String>,
    pub(crate) user_id: Option<String>,
}

/// A login whose token checked out.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) resource: String,
    /// A digest of the token: the same form posted twice gives the same proof.
    pub(crate) proof: String,
    /// Unix seconds after which the form is stale anyway.
    pub(crate) valid_until: u64,
}

/// Why a login was refused. Only `user_message` reaches the user; the rest is logged.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing(&'static str),
    TooLong { field: &'static str, max: usize },
    BadTimestamp,
    Stale,
    Future,
    BadToken,
}

impl Refusal {
    pub(crate) fn user_message(&self) -> &'static str {
        match self {
            Refusal::Stale | Refusal::Future => {
                "This sign-in link has expired. Open the add-on again from the DigitalOcean control panel."
            }
            _ => "This sign-in link is not valid. Open the add-on again from the DigitalOcean control panel.",
        }
    }
}

/// The longest value each field may have: uuids and hex digests are short, emails at most 254.
const LIMITS: [(&str, usize); 5] =
    [("resource_uuid", 128), ("token", 128), ("timestamp", 20), ("user_email", 254), ("user_id", 128)];

/// Checks the form against the salt, at `now_unix`, allowing `window` either way.
pub(crate) fn verify(
    form: &SsoForm,
    salt: &str,
    now_unix: u64,
    window: Duration,
) -> Result<Verified, Refusal> {
    let fields = [&form.resource_uuid, &form.token, &form.timestamp, &form.user_email, &form.user_id];
    for ((field, max), value) in LIMITS.iter().zip(fields) {
        if value.as_ref().is_some_and(|v| v.len() > *max) {
            return Err(Refusal::TooLong { field, max: *max });
        }
    }
    let resource =
        form.resource_uuid.as_deref().filter(|v| !v.is_empty()).ok_or(Refusal::Missing("resource_uuid"))?;
    let token = form.token.as_deref().filter(|v| !v.is_empty()).ok_or(Refusal::Missing("token"))?;
    let timestamp =
        form.timestamp.as_deref().filter(|v| !v.is_empty()).ok_or(Refusal::Missing("timestamp"))?;
    let seconds: u64 = timestamp.trim().parse().map_err(|_| Refusal::BadTimestamp)?;
    let window = window.as_secs();
    if seconds.saturating_add(window) < now_unix {
        return Err(Refusal::Stale);
    }
    if seconds > now_unix.saturating_add(window) {
        return Err(Refusal::Future);
    }
    let expected = sign(salt, timestamp, resource);
    let sent = token.trim().to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) {
        return Err(Refusal::BadToken);
    }
    Ok(Verified {
        resource: resource.to_owned(),
        proof: format!("digitalocean:{:x}", Sha256::digest(sent.as_bytes())),
        valid_until: seconds.saturating_add(window),
    })
}

/// The token DigitalOcean signs a login with, in lower-case hex.
pub(crate) fn sign(salt: &str, timestamp: &str, resource_uuid: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(salt.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}:{resource_uuid}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;
    const WINDOW: Duration = Duration::from_secs(300);

    fn form(timestamp: u64, token: String) -> SsoForm {
        SsoForm {
            resource_uuid: Some("ab12-cd34".into()),
            token: Some(token),
            timestamp: Some(timestamp.to_string()),
            user_email: Some("u@example.com".into()),
            user_id: Some("42".into()),
        }
    }

    #[test]
    fn a_known_vector() {
        // Computed independently: `printf '1700000000:ab12-cd34' | openssl dgst -sha256 -hmac salt`.
        assert_eq!(
            sign("salt", "1700000000", "ab12-cd34"),
            "b793638a43c0d789f7876ddcf27ad0ef4c4f944c2df7cebebf8d7776bf1e0d37"
        );
    }

    #[test]
    fn accepts_a_fresh_token_and_refuses_the_rest() {
        let good = form(NOW, sign("salt", &NOW.to_string(), "ab12-cd34"));
        let verified = verify(&good, "salt", NOW + 10, WINDOW).unwrap();
        assert_eq!(verified.resource, "ab12-cd34");
        assert_eq!(verified.valid_until, NOW + 300);
        assert_eq!(verify(&good, "salt", NOW + 301, WINDOW).unwrap_err(), Refusal::Stale);
        assert_eq!(verify(&good, "salt", NOW - 301, WINDOW).unwrap_err(), Refusal::Future);
        assert_eq!(verify(&good, "other salt", NOW, WINDOW).unwrap_err(), Refusal::BadToken);
        let mut other = good.clone();
        other.resource_uuid = Some("another".into());
        assert_eq!(verify(&other, "salt", NOW, WINDOW).unwrap_err(), Refusal::BadToken);
        let mut missing = good.clone();
        missing.token = None;
        assert_eq!(verify(&missing, "salt", NOW, WINDOW).unwrap_err(), Refusal::Missing("token"));
        let mut long = good;
        long.user_email = Some("x".repeat(300));
        assert!(matches!(
            verify(&long, "salt", NOW, WINDOW),
            Err(Refusal::TooLong { field: "user_email", .. })
        ));
    }
}
