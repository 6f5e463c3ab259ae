//! Heroku's SSO tokens, signed as Heroku signs them: the forms its dashboard posts for each
//! [`TokenKind`](crate::TokenKind), and the digests inside them.

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The lower-case hex SHA-1 of `input`: the `resource_token` and legacy `token` digest.
pub fn sha1_hex(input: &str) -> String {
    hex(&Sha1::digest(input.as_bytes()))
}

/// The lower-case hex SHA-256 of `input`: the `user_scoped_resource_token` digest.
pub fn sha256_hex(input: &str) -> String {
    hex(&Sha256::digest(input.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The v3 SSO form: `resource_id` and `resource_token`.
pub fn resource_token_form(uuid: &str, salt: &str, timestamp: u64) -> Vec<(&'static str, String)> {
    vec![
        ("resource_id", uuid.to_owned()),
        ("resource_token", sha1_hex(&format!("{uuid}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("email", "user@example.com".to_owned()),
        ("app", "my-app".to_owned()),
    ]
}

/// The 2026 form: `user_scoped_resource_token` over the resource and the user.
pub fn user_scoped_form(
    uuid: &str,
    salt: &str,
    timestamp: u64,
    user_id: &str,
    email: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("resource_id", uuid.to_owned()),
        ("user_scoped_resource_token", sha256_hex(&format!("{uuid}:{salt}:{timestamp}:{user_id}:{email}"))),
        ("resource_token", sha1_hex(&format!("{uuid}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("user_id", user_id.to_owned()),
        ("email", email.to_owned()),
        ("context_app", "my-app".to_owned()),
    ]
}

/// The legacy form: `id` and `token`.
pub fn legacy_form(id: &str, salt: &str, timestamp: u64) -> Vec<(&'static str, String)> {
    vec![
        ("id", id.to_owned()),
        ("token", sha1_hex(&format!("{id}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("nav-data", "eyJhZGRvbiI6IlRlc3QifQ".to_owned()),
        ("email", "user@example.com".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    // One vector per token format, the digests computed outside this code (Python's hashlib),
    // so the signers are checked against something other than the runtime's verifier. The
    // runtime's `signon/token.rs` tests hold the same literals. The legacy one is Heroku's
    // documented example.
    const SALT: &str = "2f97bfa52ca102f8874716e2eb1d3b4920ad0be4";
    const TIMESTAMP: u64 = 1_267_597_772;
    const UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

    fn field(form: &[(&'static str, String)], name: &str) -> String {
        form.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()).unwrap()
    }

    #[test]
    fn the_legacy_token_matches_the_documented_vector() {
        let form = legacy_form("123", SALT, TIMESTAMP);
        assert_eq!(field(&form, "token"), "bb466eb1d6bc345d11072c3cd25c311f21be130d");
        assert_eq!(field(&form, "timestamp"), "1267597772");
    }

    #[test]
    fn the_resource_token_matches_an_independent_vector() {
        let form = resource_token_form(UUID, SALT, TIMESTAMP);
        assert_eq!(field(&form, "resource_token"), "7659cc00fc08ff8b7bb76cd8c9762bcf528b4173");
    }

    #[test]
    fn the_user_scoped_token_matches_an_independent_vector() {
        let form = user_scoped_form(UUID, SALT, TIMESTAMP, "user-1", "user@example.com");
        assert_eq!(
            field(&form, "user_scoped_resource_token"),
            "b43df214fae6feb52c91ac1a658f9aa5c6a59ade31147a4fd6f148e7fe772936"
        );
        assert_eq!(field(&form, "resource_token"), "7659cc00fc08ff8b7bb76cd8c9762bcf528b4173");
    }
}
