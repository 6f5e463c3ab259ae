//! The URLs Pingly agrees to watch: absolute http(s) URLs with a host, no credentials, of a
//! bounded length. Every refusal says what to send instead.

use addon_runtime::AddonError;
use url::Url;

/// The longest URL a monitor may have.
pub const MAX_URL_CHARS: usize = 2048;

/// The URL to store, normalised, or a 422 for the person who sent it.
pub(crate) fn parse(raw: &str) -> Result<String, AddonError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AddonError::new(
            "Give the URL to monitor, such as {\"url\": \"https://example.com/health\"}.",
        ));
    }
    let chars = raw.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(AddonError::new(format!(
            "The URL has {chars} characters; Pingly monitors URLs of at most {MAX_URL_CHARS}."
        )));
    }
    let url = Url::parse(raw).map_err(|e| {
        AddonError::new(format!(
            "The URL could not be read ({e}). Give an absolute URL, such as https://example.com/health."
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AddonError::new(format!(
            "Pingly checks http and https URLs only, not `{}:` URLs.",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AddonError::new("The URL has no host. Give one such as https://example.com/health."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddonError::new(
            "Leave credentials out of the URL: Pingly shows it on the dashboard. Monitor a health \
             check that needs no login.",
        ));
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        parse(raw).expect_err(raw).message().to_owned()
    }

    #[test]
    fn http_and_https_urls_are_kept() {
        assert_eq!(parse(" https://example.com/health ").unwrap(), "https://example.com/health");
        assert_eq!(parse("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert!(refused("").contains("Give the URL"));
        assert!(refused("example.com").contains("absolute URL"));
        assert!(refused("ftp://example.com/").contains("not `ftp:`"));
        assert!(refused("javascript:alert(1)").contains("not `javascript:`"));
        assert!(refused("https://user:pw@example.com/").contains("credentials"));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(refused(&long).contains("at most 2048"));
    }
}
