//! Heroku's Platform API for partners: the OAuth grant exchange and refresh, and the calls an
//! add-on makes for one of its resources (config, provision and deprovision actions, add-on and
//! app details, collaborators, log drains, webhooks).
//!
//! Tokens are per resource, stored sealed in the registry and refreshed a minute before they
//! expire. Base URLs come from `HEROKU_API_URL` and `HEROKU_OAUTH_URL`, so tests point them at
//! a local fake.

mod api;
mod digitalocean;
mod error;
mod oauth;

use std::sync::Arc;
use std::time::Duration;

pub use api::{AddonInfo, AppInfo, Collaborator, HerokuApi, NamedRef, Owner, User};
pub use digitalocean::DigitalOceanApi;
pub use error::PlatformError;

use crate::base::cipher::{Binding, Keyring};
use crate::base::clock::SharedClock;
use crate::base::settings::Settings;
use crate::services::store::Store;

/// The media type of Platform API v3 requests and answers.
const ACCEPT: &str = "application/vnd.heroku+json; version=3";

/// What the runtime needs to speak to Heroku: where, with which secret, with what storage.
#[derive(Clone)]
pub(crate) struct Platform {
    pub(crate) http: reqwest::Client,
    pub(crate) api_url: String,
    pub(crate) oauth_url: String,
    pub(crate) client_secret: Option<String>,
    /// DigitalOcean's API (`ADDON_DO_API_URL`) and the client secret its grants are exchanged with.
    pub(crate) digitalocean_url: String,
    pub(crate) digitalocean_secret: Option<String>,
    pub(crate) store: Store,
    pub(crate) cipher: Keyring,
    pub(crate) clock: SharedClock,
}

impl Platform {
    pub(crate) fn new(settings: &Settings, store: Store, cipher: Keyring, clock: SharedClock) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("addon-runtime/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        Self {
            http,
            api_url: settings.heroku_api_url.trim_end_matches('/').to_owned(),
            oauth_url: settings.heroku_oauth_url.trim_end_matches('/').to_owned(),
            client_secret: settings.oauth_client_secret.clone(),
            digitalocean_url: settings.digitalocean.api_url.trim_end_matches('/').to_owned(),
            digitalocean_secret: settings.digitalocean.client_secret.clone(),
            store,
            cipher,
            clock,
        }
    }

    /// A stored token or grant of resource `uuid`, opened; a clear error if it does not open
    /// (sealed with a key no longer configured, or altered).
    pub(crate) fn open(
        &self,
        sealed: &str,
        uuid: &str,
        field: &'static str,
    ) -> Result<String, PlatformError> {
        self.cipher.open(sealed, Binding::new(uuid, field)).map_err(|why| {
            PlatformError::config(format!(
                "the stored {field} of resource {uuid} cannot be opened: {why}; check ADDON_TOKEN_KEY \
                 and ADDON_TOKEN_KEYS_PREVIOUS"
            ))
        })
    }

    /// The API scoped to one resource.
    pub(crate) fn for_resource(self: &Arc<Self>, uuid: &str) -> HerokuApi {
        HerokuApi::new(self.clone(), uuid)
    }
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("api_url", &self.api_url)
            .field("oauth_url", &self.oauth_url)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("digitalocean_url", &self.digitalocean_url)
            .field("digitalocean_secret", &self.digitalocean_secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}
