//! Encryption at rest (ChaCha20-Poly1305, RFC 8439, a random nonce per value) for what the
//! registry keeps that is secret: OAuth grants and tokens, a resource's config and the answer
//! replayed to Heroku.
//!
//! The cipher is ring's (already built for TLS): its assembly opens a replayed answer of a few
//! hundred bytes in about a quarter of the time of the portable crates' runtime-detected AVX2
//! (BENCHMARKS.md). Values are the same bytes either way: ciphertext, then the 16-byte tag.
//!
//! A sealed value is `v2.<key id>.<nonce>.<ciphertext>`. The key id names the key that sealed it,
//! so a [`Keyring`] with a new current key and the old ones as previous keys seals with the new
//! key and still opens what the old ones sealed. Every value is bound to what it belongs to
//! (associated data: the resource's uuid and the field), so a sealed value copied to another row
//! or column does not open. Values of the first format, `v1.<nonce>.<ciphertext>` (no key id,
//! no associated data), still open with any key of the ring; they are sealed anew when next
//! written.

use base64::engine::general_purpose::{STANDARD_NO_PAD as B64, URL_SAFE_NO_PAD as B64_URL};
use base64::Engine;
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use sha2::{Digest, Sha256};

/// What a sealed value belongs to: the resource and the field (`table.column`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) field: &'static str,
}

/// The fields sealed in the registry, as `table.column`.
pub(crate) mod field {
    pub(crate) const GRANT_CODE: &str = "addon_tokens.grant_code";
    pub(crate) const ACCESS_TOKEN: &str = "addon_tokens.access_token";
    pub(crate) const REFRESH_TOKEN: &str = "addon_tokens.refresh_token";
    pub(crate) const CONFIG: &str = "addon_resources.config";
    pub(crate) const RESPONSE: &str = "addon_resources.response";
    pub(crate) const OSB_PARAMETERS: &str = "addon_osb_instances.parameters";
    pub(crate) const OSB_BINDING_ATTRIBUTES: &str = "addon_osb_bindings.attributes";
    pub(crate) const OSB_BINDING_CREDENTIALS: &str = "addon_osb_bindings.credentials";
}

impl<'a> Binding<'a> {
    pub(crate) fn new(uuid: &'a str, field: &'static str) -> Self {
        Self { uuid, field }
    }
}

impl Binding<'_> {
    /// The associated data: unambiguous, as neither part holds a NUL.
    fn associated_data(&self) -> Vec<u8> {
        format!("addon-runtime sealed v2\0{}\0{}", self.field, self.uuid).into_bytes()
    }
}

/// Why a sealed value did not open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unopenable {
    /// Sealed with a key that is neither the current key nor a previous one.
    UnknownKey(String),
    /// Altered, copied from another resource or field, or not a sealed value at all.
    Invalid,
}

impl std::fmt::Display for Unopenable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownKey(id) => write!(
                f,
                "it was sealed with the key whose id is `{id}`, which is no longer configured \
                 (put that key back in the previous keys to open it)"
            ),
            Self::Invalid => f.write_str("it was altered, or it belongs to another resource or field"),
        }
    }
}

/// One key: its id (derived from it, so nothing needs naming), its cipher, and the key of the
/// keyed digests that index secrets without keeping them ([`Keyring::index_digests`]).
#[derive(Clone)]
struct SealingKey {
    id: String,
    cipher: LessSafeKey,
    index_key: [u8; 32],
}

impl SealingKey {
    /// Keyed by SHA-256 of `secret`, so any sufficiently random text works as a key.
    fn new(secret: &[u8]) -> Self {
        let key = Sha256::digest(secret);
        let id = Sha256::new().chain_update(b"addon-runtime key id\0").chain_update(secret).finalize();
        let index_key = Sha256::new()
            .chain_update(b"addon-runtime index key v1\0")
            .chain_update(secret)
            .finalize()
            .into();
        let cipher =
            UnboundKey::new(&CHACHA20_POLY1305, &key).expect("SHA-256 gives the 32 bytes ChaCha20 takes");
        Self { id: B64_URL.encode(&id[..8]), cipher: LessSafeKey::new(cipher), index_key }
    }

    /// HMAC-SHA256 of `label` and `value` under this key's index key, base64.
    fn index_digest(&self, label: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC takes keys of any length");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }
}

/// The current key, which seals, and the previous ones, which only open.
#[derive(Clone)]
pub(crate) struct Keyring {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Keyring {
    pub(crate) fn new(current: &[u8], previous: &[Vec<u8>]) -> Self {
        Self {
            current: SealingKey::new(current),
            previous: previous.iter().map(|secret| SealingKey::new(secret)).collect(),
        }
    }

    /// The id the current key writes into what it seals.
    pub(crate) fn current_id(&self) -> &str {
        &self.current.id
    }

    /// `v2.<key id>.<nonce>.<ciphertext>`, base64.
    pub(crate) fn seal(&self, plaintext: &str, binding: Binding<'_>) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random source is available");
        let aad = binding.associated_data();
        let mut sealed = plaintext.as_bytes().to_vec();
        self.current
            .cipher
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut sealed)
            .expect("a value this small is within ChaCha20's limit");
        format!("v2.{}.{}.{}", self.current.id, B64.encode(nonce), B64.encode(sealed))
    }

    /// The plaintext, if the value was sealed by a key of this ring for this binding and not
    /// altered since.
    pub(crate) fn open(&self, sealed: &str, binding: Binding<'_>) -> Result<String, Unopenable> {
        // Every replay opens one: its parts are read in place, with no list of them, and the
        // ciphertext is not searched for a dot (base64 has none: one there fails to decode).
        let mut parts = sealed.splitn(4, '.');
        let plain = match [parts.next(), parts.next(), parts.next(), parts.next()] {
            [Some("v2"), Some(id), Some(nonce), Some(data)] if !id.is_empty() => {
                let key = self.keys().find(|key| key.id == id);
                let key = key.ok_or_else(|| Unopenable::UnknownKey(id.to_owned()))?;
                let aad = binding.associated_data();
                decrypt(key, nonce, data, &aad)
            }
            // The first format names no key: try each.
            [Some("v1"), Some(nonce), Some(data), None] => {
                self.keys().find_map(|key| decrypt(key, nonce, data, b""))
            }
            _ => None,
        };
        plain.and_then(|p| String::from_utf8(p).ok()).ok_or(Unopenable::Invalid)
    }

    /// The keyed digest of `value` (a secret such as an API key) under `label` (what it is),
    /// with the current key: what an index stores so a secret can be looked up without a copy
    /// of it. Someone who reads the index cannot test guesses against it without the key.
    pub(crate) fn index_digest(&self, label: &str, value: &str) -> String {
        self.current.index_digest(label, value)
    }

    /// The digests of `value` under every key of the ring, current first: an index written
    /// before a rotation is still found.
    pub(crate) fn index_digests(&self, label: &str, value: &str) -> Vec<String> {
        self.keys().map(|key| key.index_digest(label, value)).collect()
    }

    /// Whether `text` has the shape of a sealed value (of any format), as opposed to plain text
    /// written before values were sealed.
    pub(crate) fn is_sealed(text: &str) -> bool {
        text.starts_with("v2.") || text.starts_with("v1.")
    }

    fn keys(&self) -> impl Iterator<Item = &SealingKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

/// The plaintext, decrypted in the buffer the ciphertext was decoded into.
fn decrypt(key: &SealingKey, nonce: &str, data: &str, aad: &[u8]) -> Option<Vec<u8>> {
    let mut nonce_bytes = [0u8; NONCE_LEN];
    if B64.decode_slice(nonce, &mut nonce_bytes).ok()? != nonce_bytes.len() {
        return None;
    }
    let mut buffer = B64.decode(data).ok()?;
    let nonce = Nonce::assume_unique_for_key(nonce_bytes);
    let plain = key.cipher.open_in_place(nonce, Aad::from(aad), &mut buffer).ok()?.len();
    buffer.truncate(plain);
    Some(buffer)
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("previous", &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: Binding<'static> = Binding { uuid: "uuid-1", field: "addon_tokens.access_token" };

    /// "legacy token" in the first format under the key text `key A`, as the first release (on
    /// the `chacha20poly1305` crate) wrote it: no key id, no associated data.
    const LEGACY_V1: &str = "v1.BwcHBwcHBwcHBwcH.upZRzAenwE+mM662cLU1JSNlKn9BdBcYOhX3zA";

    /// Values sealed before the cipher moved to ring, by the `chacha20poly1305` crate, with the
    /// key text `a key`: they must open for as long as the registry holds them.
    const SEALED_BEFORE_RING: [(&str, Binding<'static>, &str); 2] = [
        ("v2.Ye5kGhoRywY.AgJYw5JBtUFQKYF7.EaTqV/2YecXlkqvHllfk9IMOb3U8Awzsnid//MC0dxo", TOKEN, "access-token-123"),
        (
            "v2.Ye5kGhoRywY.oRQ48lMFgUs1EhWL.yOWMNwxSMVHVeMmZIYYG1uqIcPtUnHVakEM64VxgBp3l1wjCHcXhVfNR2mWfWPit9SWweo010RtpkEAPFYt0DbTTKN8",
            Binding { uuid: "01234567-89ab-cdef-0123-456789abcdef", field: field::RESPONSE },
            r#"{"id":"x","config":{"A_URL":"https://a.example/é"}}"#,
        ),
    ];

    #[test]
    fn values_sealed_by_the_earlier_cipher_still_open() {
        let ring = Keyring::new(b"a key", &[]);
        for (sealed, binding, plain) in SEALED_BEFORE_RING {
            assert_eq!(ring.open(sealed, binding).as_deref(), Ok(plain), "{sealed}");
            let other = Binding { uuid: "uuid-2", ..binding };
            assert_eq!(ring.open(sealed, other), Err(Unopenable::Invalid));
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let ring = Keyring::new(b"a key", &[]);
        let sealed = ring.seal("access-token-123", TOKEN);
        assert!(sealed.starts_with(&format!("v2.{}.", ring.current_id())), "{sealed}");
        assert!(!sealed.contains("access-token-123"));
        assert_ne!(sealed, ring.seal("access-token-123", TOKEN), "a fresh nonce each time");
        assert_eq!(ring.open(&sealed, TOKEN).as_deref(), Ok("access-token-123"));
        let other = Keyring::new(b"another key", &[]);
        assert!(
            matches!(other.open(&sealed, TOKEN), Err(Unopenable::UnknownKey(id)) if id == ring.current_id())
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(ring.open(&tampered, TOKEN), Err(Unopenable::Invalid));
        for garbage in ["plain", "v2.x", "v2...", "v1..", "{\"A\":\"b\"}", ""] {
            assert_eq!(ring.open(garbage, TOKEN), Err(Unopenable::Invalid), "{garbage}");
        }
        // A part too many, or a nonce of another length, is not a sealed value.
        let (head, data) = sealed.rsplit_once('.').unwrap();
        let (prefix, nonce) = head.rsplit_once('.').unwrap();
        for altered in [
            format!("{sealed}.x"),
            format!("{prefix}.{}.{data}", &nonce[..12]),
            format!("{prefix}.{nonce}AAAA.{data}"),
        ] {
            assert_eq!(ring.open(&altered, TOKEN), Err(Unopenable::Invalid), "{altered}");
        }
    }

    #[test]
    fn a_value_opens_only_for_its_resource_and_field() {
        let ring = Keyring::new(b"a key", &[]);
        let sealed = ring.seal("secret", TOKEN);
        let other_row = Binding { uuid: "uuid-2", ..TOKEN };
        let other_field = Binding { field: "addon_tokens.refresh_token", ..TOKEN };
        assert_eq!(ring.open(&sealed, other_row), Err(Unopenable::Invalid));
        assert_eq!(ring.open(&sealed, other_field), Err(Unopenable::Invalid));
    }

    #[test]
    fn a_new_key_seals_while_previous_keys_still_open() {
        let old = Keyring::new(b"key A", &[]);
        let sealed_by_a = old.seal("from A", TOKEN);
        let rotated = Keyring::new(b"key B", &[b"key A".to_vec()]);
        assert_ne!(rotated.current_id(), old.current_id());
        assert_eq!(rotated.open(&sealed_by_a, TOKEN).as_deref(), Ok("from A"));
        let sealed_by_b = rotated.seal("from B", TOKEN);
        assert!(sealed_by_b.starts_with(&format!("v2.{}.", rotated.current_id())));
        let a_dropped = Keyring::new(b"key B", &[]);
        assert_eq!(a_dropped.open(&sealed_by_b, TOKEN).as_deref(), Ok("from B"));
        assert_eq!(
            a_dropped.open(&sealed_by_a, TOKEN),
            Err(Unopenable::UnknownKey(old.current_id().to_owned()))
        );
    }

    #[test]
    fn the_first_format_still_opens_with_any_key_of_the_ring() {
        let v1 = LEGACY_V1;
        assert!(Keyring::is_sealed(v1));
        assert_eq!(Keyring::new(b"key A", &[]).open(v1, TOKEN).as_deref(), Ok("legacy token"));
        assert_eq!(
            Keyring::new(b"key B", &[b"key A".to_vec()]).open(v1, TOKEN).as_deref(),
            Ok("legacy token")
        );
        assert_eq!(Keyring::new(b"key B", &[]).open(v1, TOKEN), Err(Unopenable::Invalid));
    }

    #[test]
    fn index_digests_are_keyed_and_survive_a_rotation() {
        let old = Keyring::new(b"key A", &[]);
        let digest = old.index_digest("API_KEY", "secret-value");
        assert!(!digest.contains("secret"));
        assert_ne!(digest, Keyring::new(b"key B", &[]).index_digest("API_KEY", "secret-value"));
        assert_ne!(digest, old.index_digest("OTHER_KEY", "secret-value"), "bound to its label");
        let rotated = Keyring::new(b"key B", &[b"key A".to_vec()]);
        let digests = rotated.index_digests("API_KEY", "secret-value");
        assert_eq!(digests.len(), 2);
        assert_eq!(digests[0], rotated.index_digest("API_KEY", "secret-value"));
        assert_eq!(digests[1], digest);
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let ring = Keyring::new(b"a secret key text", &[b"an old secret key".to_vec()]);
        let debug = format!("{ring:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains(ring.current_id()));
    }
}
