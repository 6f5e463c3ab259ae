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
