//! The DigitalOcean marketplace's settings: its three secrets and where its API is. Read only
//! when the add-on declares `digitalocean(...)`.

use std::fmt;

use super::{config, derive_key, Mode};
use crate::base::answer::Error;

pub(crate) const PASSWORD: &str = "ADDON_DO_PASSWORD";
pub(crate) const SSO_SALT: &str = "ADDON_DO_SSO_SALT";
pub(crate) const CLIENT_SECRET: &str = "ADDON_DO_CLIENT_SECRET";
pub(crate) const API_URL: &str = "ADDON_DO_API_URL";
/// DigitalOcean's API: the OAuth token endpoint and the config PATCH are under `/v2/add-ons`.
pub(crate) const DEFAULT_API_URL: &str = "https://api.digitalocean.com";

/// What DigitalOcean's calls are checked with, and where the add-on calls DigitalOcean.
#[derive(Clone)]
pub(crate) struct DigitalOceanSettings {
    /// Basic auth's password on DigitalOcean's calls (the user is the listing's slug).
    pub(crate) password: String,
    /// The key of the SSO token's HMAC-SHA256.
    pub(crate) sso_salt: String,
    /// The OAuth client secret the grant is exchanged with; without it, grants are not exchanged.
    pub(crate) client_secret: Option<String>,
    pub(crate) api_url: String,
}

impl DigitalOceanSettings {
    /// Development's secrets, derived from Heroku's SSO salt so that the example runs with no
    /// setup and keeps them across restarts; never used in production.
    pub(crate) fn development(heroku_sso_salt: &str) -> Self {
        let derived = |purpose: &[u8]| hex(&derive_key(heroku_sso_salt, purpose));
        DigitalOceanSettings {
            password: derived(b"addon-runtime digitalocean password v1"),
            sso_salt: derived(b"addon-runtime digitalocean sso salt v1"),
            client_secret: None,
            api_url: DEFAULT_API_URL.to_owned(),
        }
    }

    /// From the environment: in production the password and salt must be set (when the add-on is
    /// listed on DigitalOcean at all); in development each falls back to its derived value.
    pub(crate) fn read(
        &mut self,
        listed: bool,
        mode: Mode,
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), Error> {
        let (password, salt) = (var(PASSWORD), var(SSO_SALT));
        if listed && mode == Mode::Production && (password.is_none() || salt.is_none()) {
            return Err(config(format!(
                "{PASSWORD} and {SSO_SALT} must both be set in production for `digitalocean(...)`; use the \
                 password and SSO salt DigitalOcean's vendor portal shows for the add-on"
            )));
        }
        for (name, value) in [(PASSWORD, &password), (SSO_SALT, &salt)] {
            if let Some(value) = value {
                addon_manifest::rules::check_secret(name, value).map_err(config)?;
            }
        }
        if let Some(password) = password {
            self.password = password;
        }
        if let Some(salt) = salt {
            self.sso_salt = salt;
        }
        self.client_secret = var(CLIENT_SECRET);
        if let Some(url) = var(API_URL) {
            let plain = url.starts_with("https://") || url.starts_with("http://");
            if !plain {
                return Err(config(format!(
                    "{API_URL} is `{url}`; give DigitalOcean's API origin, such as `{DEFAULT_API_URL}`"
                )));
            }
            self.api_url = url.trim_end_matches('/').to_owned();
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for DigitalOceanSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigitalOceanSettings")
            .field("password", &"<redacted>")
            .field("sso_salt", &"<redacted>")
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("api_url", &self.api_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(listed: bool, mode: Mode, vars: &[(&str, &str)]) -> Result<DigitalOceanSettings, Error> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut settings = DigitalOceanSettings::development("heroku-salt-0123456789abcdefghij");
        settings.read(listed, mode, &|name: &str| vars.get(name).cloned())?;
        Ok(settings)
    }

    #[test]
    fn development_needs_nothing_and_keeps_its_derived_secrets() {
        let first = read(true, Mode::Development, &[]).unwrap();
        let again = read(true, Mode::Development, &[]).unwrap();
        assert_eq!((first.password.len(), first.sso_salt.len()), (64, 64));
        assert_eq!(first.password, again.password, "the same across restarts");
        assert_ne!(first.password, first.sso_salt);
        assert_eq!(first.api_url, DEFAULT_API_URL);
        assert!(first.client_secret.is_none());
    }

    #[test]
    fn production_needs_the_secrets_only_when_listed() {
        let missing = read(true, Mode::Production, &[(PASSWORD, "do-password-0123456789abcdefghij")]);
        let message = missing.unwrap_err().to_string();
        assert!(message.contains(SSO_SALT) && message.contains("digitalocean"), "{message}");
        assert!(read(false, Mode::Production, &[]).is_ok(), "an add-on not on DigitalOcean needs none");
        let set = read(
            true,
            Mode::Production,
            &[
                (PASSWORD, "do-password-0123456789abcdefghij"),
                (SSO_SALT, "do-sso-salt-0123456789abcdefghij"),
                (CLIENT_SECRET, "do-client-secret"),
                (API_URL, "http://127.0.0.1:9/"),
            ],
        )
        .unwrap();
        assert_eq!(set.sso_salt, "do-sso-salt-0123456789abcdefghij");
        assert_eq!(set.api_url, "http://127.0.0.1:9");
        let debug = format!("{set:?}");
        assert!(
            !debug.contains("do-password") && !debug.contains("do-sso-salt") && !debug.contains("do-client"),
            "{debug}"
        );
    }

    #[test]
    fn malformed_values_are_refused_by_name() {
        let url =
            read(true, Mode::Development, &[(API_URL, "api.digitalocean.com")]).unwrap_err().to_string();
        assert!(url.contains(API_URL), "{url}");
        let short = read(true, Mode::Development, &[(PASSWORD, "CHANGEME")]).unwrap_err().to_string();
        assert!(short.contains(PASSWORD), "{short}");
    }
}
