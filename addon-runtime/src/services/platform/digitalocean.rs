//! DigitalOcean's side for one resource: the OAuth grant exchange and refresh at
//! `POST {ADDON_DO_API_URL}/v2/add-ons/oauth/token` (JSON, as DigitalOcean's sample sends it),
//! and the config update `PATCH {ADDON_DO_API_URL}/v2/add-ons/resources/{uuid}/config` with the
//! resource's bearer token. Tokens are kept sealed in the registry beside Heroku's, one row per
//! resource, and refreshed a minute before they expire.

use std::sync::Arc;

use super::error::{from_response, PlatformError};
use super::oauth::TokenAnswer;
use super::Platform;
use crate::base::cipher::field;
use crate::base::protocol::Config;
use crate::services::store::StoreError;

/// Refresh this long before the token expires, so a call never goes out with a dying token.
const REFRESH_MARGIN_MS: i64 = 60_000;

impl Platform {
    fn digitalocean_secret(&self) -> Result<&str, PlatformError> {
        self.digitalocean_secret.as_deref().ok_or_else(|| {
            PlatformError::config(
                "ADDON_DO_CLIENT_SECRET is not set: DigitalOcean's grants are exchanged with the add-on's OAuth \
                 client secret",
            )
        })
    }

    /// Exchanges the resource's stored DigitalOcean grant for tokens, if it has one not yet
    /// exchanged.
    pub(crate) async fn exchange_digitalocean_grant(&self, uuid: &str) -> Result<(), PlatformError> {
        let stored = self.store.tokens(uuid).await.map_err(|e| PlatformError::config(e.to_string()))?;
        let Some(sealed) = stored.grant_code else { return Ok(()) };
        let code = self.open(&sealed, uuid, field::GRANT_CODE)?;
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_secret": self.digitalocean_secret()?,
        });
        let answer = self.digitalocean_token(&body).await?;
        self.save(uuid, &answer).await
    }

    async fn refresh_digitalocean(&self, uuid: &str, refresh_token: &str) -> Result<(), PlatformError> {
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_secret": self.digitalocean_secret()?,
        });
        let answer = self.digitalocean_token(&body).await?;
        self.save(uuid, &answer).await
    }

    async fn digitalocean_token(&self, body: &serde_json::Value) -> Result<TokenAnswer, PlatformError> {
        let response = self
            .http
            .post(format!("{}/v2/add-ons/oauth/token", self.digitalocean_url))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| PlatformError::network(&e))?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        response
            .json()
            .await
            .map_err(|e| PlatformError::config(format!("DigitalOcean's token answer is not valid: {e}")))
    }

    /// DigitalOcean's API scoped to one resource.
    pub(crate) fn digitalocean(self: &Arc<Self>, uuid: &str) -> DigitalOceanApi {
        DigitalOceanApi { platform: self.clone(), uuid: uuid.to_owned() }
    }
}

/// DigitalOcean's API as one resource's OAuth token allows: for a resource DigitalOcean
/// provisioned, through [`App::digitalocean`](crate::App::digitalocean). The runtime uses it
/// itself to set the config a background job returns.
#[derive(Clone)]
pub struct DigitalOceanApi {
    platform: Arc<Platform>,
    uuid: String,
}

impl DigitalOceanApi {
    /// The resource this API acts for.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// `PATCH /v2/add-ons/resources/{uuid}/config` with `{"config": {"VAR": "value"}}`: the
    /// config vars DigitalOcean shows the user change.
    pub async fn update_config(&self, config: &Config) -> Result<(), PlatformError> {
        let vars: serde_json::Map<String, serde_json::Value> =
            config.iter().map(|(var, value)| (var.name().to_owned(), value.into())).collect();
        let body = serde_json::json!({ "config": vars });
        let token = self.token().await?;
        let platform = &self.platform;
        let response = platform
            .http
            .patch(format!("{}/v2/add-ons/resources/{}/config", platform.digitalocean_url, self.uuid))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .bearer_auth(token)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| PlatformError::network(&e))?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        Ok(())
    }

    /// The resource's access token: exchanged from its grant if that has not happened yet, and
    /// refreshed if it expires within a minute.
    async fn token(&self) -> Result<String, PlatformError> {
        let platform = &self.platform;
        let store_error = |e: StoreError| PlatformError::config(e.to_string());
        let mut stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        if stored.grant_code.is_some() {
            platform.exchange_digitalocean_grant(&self.uuid).await?;
            stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        }
        let (Some(access), Some(expires_at)) = (&stored.access_token, stored.expires_at) else {
            return Err(PlatformError::config(format!(
                "no DigitalOcean token for {}: DigitalOcean sent no OAuth grant with its provision",
                self.uuid
            )));
        };
        if expires_at.saturating_sub(REFRESH_MARGIN_MS) > platform.clock.now_ms() {
            return platform.open(access, &self.uuid, field::ACCESS_TOKEN);
        }
        let refresh = stored.refresh_token.as_deref().ok_or_else(|| {
            PlatformError::config(format!(
                "the DigitalOcean access token of {} expired and no refresh token is stored",
                self.uuid
            ))
        })?;
        let refresh = platform.open(refresh, &self.uuid, field::REFRESH_TOKEN)?;
        platform.refresh_digitalocean(&self.uuid, &refresh).await?;
        let stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        platform.open(stored.access_token.as_deref().unwrap_or_default(), &self.uuid, field::ACCESS_TOKEN)
    }
}

impl std::fmt::Debug for DigitalOceanApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigitalOceanApi").field("uuid", &self.uuid).finish_non_exhaustive()
    }
}
