/// A random secret of 32 letters and digits, as Heroku's manifest generator makes them.
///
/// Rejection sampling keeps every character equally likely.
pub fn random_secret() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut secret = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while secret.len() < 32 {
        getrandom::fill(&mut buf).expect("the operating system's random source is available");
        for byte in buf {
            // 248 = 4 * 62: bytes at or above it would favour the first characters.
            if byte < 248 && secret.len() < 32 {
                secret.push(ALPHABET[usize::from(byte % 62)] as char);
            }
        }
    }
    secret
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_32_alphanumerics_and_differ() {
        let a = super::random_secret();
        let b = super::random_secret();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
