//! Encryption at rest for OAuth tokens (ChaCha20-Poly1305, a random nonce per value). Heroku's
//! own reference add-on insists: these values must be encrypted in storage.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub(crate) struct TokenCipher {
    cipher: ChaCha20Poly1305,
}

impl TokenCipher {
    /// A cipher keyed by SHA-256 of `secret`, so any sufficiently random text works as a key.
    pub(crate) fn new(secret: &[u8]) -> Self {
        let key = Sha256::digest(secret);
        Self { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) }
    }

    /// `v1.<nonce>.<ciphertext>`, base64.
    pub(crate) fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source is available");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption cannot fail");
        format!("v1.{}.{}", B64.encode(nonce), B64.encode(sealed))
    }

    /// The plaintext, if the value was sealed with this key and not altered.
    pub(crate) fn open(&self, sealed: &str) -> Option<String> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(nonce), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let nonce = B64.decode(nonce).ok().filter(|n| n.len() == 12)?;
        let plain = self.cipher.decrypt(Nonce::from_slice(&nonce), B64.decode(data).ok()?.as_slice()).ok()?;
        String::from_utf8(plain).ok()
    }
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(<key>)")
    }
}

#[cfg(test)]
mod tests {
    use super::TokenCipher;

    #[test]
    fn round_trip_and_refusals() {
        let cipher = TokenCipher::new(b"a key");
        let sealed = cipher.seal("access-token-123");
        assert!(!sealed.contains("access-token-123"));
        assert_ne!(sealed, cipher.seal("access-token-123"), "a fresh nonce each time");
        assert_eq!(cipher.open(&sealed).as_deref(), Some("access-token-123"));
        assert!(TokenCipher::new(b"another key").open(&sealed).is_none());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(cipher.open(&tampered).is_none());
        assert!(cipher.open("plain").is_none());
    }
}
