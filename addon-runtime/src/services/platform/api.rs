//! The Platform API calls for one resource, with its own token.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::error::{from_response, PlatformError};
use super::{Platform, ACCEPT};
use crate::base::cipher::field;
use crate::base::protocol::Config;
use crate::services::store::StoreError;

/// Refresh this long before the token expires, so a call never goes out with a dying token.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// The Platform API as one resource's OAuth token allows: handed to the vendor's completion
/// methods, and available for any resource through [`App::heroku`](crate::App::heroku).
#[derive(Clone)]
pub struct HerokuApi {
    platform: Arc<Platform>,
    uuid: String,
}

/// An add-on as the Platform API describes it (the fields vendors use; others are ignored).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct AddonInfo {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub app: Option<NamedRef>,
    #[serde(default)]
    pub plan: Option<NamedRef>,
    #[serde(default)]
    pub web_url: Option<String>,
}

/// `{"id": .., "name": ..}`, as the Platform API nests apps and plans.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct NamedRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct AppInfo {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub owner: Option<Owner>,
}

#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Owner {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Collaborator {
    pub user: User,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct User {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

impl HerokuApi {
    pub(crate) fn new(platform: Arc<Platform>, uuid: &str) -> Self {
        Self { platform, uuid: uuid.to_owned() }
    }

    /// The resource this API acts for.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// `PATCH /addons/{uuid}/config`: sets the config vars (during asynchronous provisioning
    /// this does not restart the app; afterwards it releases and restarts it).
    pub async fn update_config(&self, config: &Config) -> Result<(), PlatformError> {
        let vars: Vec<_> = config
            .iter()
            .map(|(var, value)| serde_json::json!({"name": var.name(), "value": value}))
            .collect();
        let body = serde_json::json!({ "config": vars });
        self.send(reqwest::Method::PATCH, &format!("/addons/{}/config", self.uuid), Some(body))
            .await
            .map(drop)
    }

    /// `POST /addons/{uuid}/actions/provision`: asynchronous provisioning is done.
    pub async fn mark_provisioned(&self) -> Result<(), PlatformError> {
        self.send(reqwest::Method::POST, &format!("/addons/{}/actions/provision", self.uuid), None)
            .await
            .map(drop)
    }

    /// `POST /addons/{uuid}/actions/deprovision`: asynchronous deprovisioning is done.
    pub async fn mark_deprovisioned(&self) -> Result<(), PlatformError> {
        self.send(reqwest::Method::POST, &format!("/addons/{}/actions/deprovision", self.uuid), None)
            .await
            .map(drop)
    }

    /// `GET /addons/{uuid}`.
    pub async fn addon(&self) -> Result<AddonInfo, PlatformError> {
        self.get(&format!("/addons/{}", self.uuid)).await
    }

    /// `GET /apps/{app}`: the app, with its owner's email.
    pub async fn app(&self, app: &str) -> Result<AppInfo, PlatformError> {
        self.get(&format!("/apps/{app}")).await
    }

    /// `GET /apps/{app}/collaborators`: the team's emails.
    pub async fn collaborators(&self, app: &str) -> Result<Vec<Collaborator>, PlatformError> {
        self.get(&format!("/apps/{app}/collaborators")).await
    }

    /// `PUT /addons/{uuid}/log-drains/{drain}`: moves the resource's log drain to `url`.
    pub async fn update_log_drain(&self, drain: &str, url: &str) -> Result<(), PlatformError> {
        let body = serde_json::json!({ "url": url });
        self.send(reqwest::Method::PUT, &format!("/addons/{}/log-drains/{drain}", self.uuid), Some(body))
            .await
            .map(drop)
    }

    /// `POST /addons/{uuid}/webhooks`: subscribes to events about the resource's app.
    pub async fn create_webhook(
        &self,
        subscription: serde_json::Value,
    ) -> Result<serde_json::Value, PlatformError> {
        let text = self
            .send(reqwest::Method::POST, &format!("/addons/{}/webhooks", self.uuid), Some(subscription))
            .await?;
        serde_json::from_str(&text)
            .map_err(|e| PlatformError::config(format!("Heroku's answer is not valid: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, PlatformError> {
        let text = self.send(reqwest::Method::GET, path, None).await?;
        serde_json::from_str(&text)
            .map_err(|e| PlatformError::config(format!("Heroku's answer is not valid: {e}")))
    }

    /// One authenticated call; the body of a 2xx answer as text.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<String, PlatformError> {
        let token = self.token().await?;
        let mut request = self
            .platform
            .http
            .request(method, format!("{}{path}", self.platform.api_url))
            .header("Accept", ACCEPT)
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| PlatformError::network(&e))?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        response.text().await.map_err(|e| PlatformError::network(&e))
    }

    /// The resource's access token: exchanged from its grant if that has not happened yet, and
    /// refreshed if it expires within a minute.
    async fn token(&self) -> Result<String, PlatformError> {
        let platform = &self.platform;
        let store_error = |e: StoreError| PlatformError::config(e.to_string());
        let mut stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        if stored.grant_code.is_some() {
            platform.exchange_grant(&self.uuid).await?;
            stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        }
        let (Some(access), Some(expires_at)) = (&stored.access_token, stored.expires_at) else {
            return Err(PlatformError::config(format!(
                "no Platform API token for {}: Heroku sent no OAuth grant with its provision",
                self.uuid
            )));
        };
        if expires_at.saturating_sub(REFRESH_MARGIN_MS) > platform.clock.now_ms() {
            return platform.open(access, &self.uuid, field::ACCESS_TOKEN);
        }
        let refresh = stored.refresh_token.as_deref().ok_or_else(|| {
            PlatformError::config(format!(
                "the access token of {} expired and no refresh token is stored",
                self.uuid
            ))
        })?;
        let refresh = platform.open(refresh, &self.uuid, field::REFRESH_TOKEN)?;
        platform.refresh(&self.uuid, &refresh).await?;
        let stored = platform.store.tokens(&self.uuid).await.map_err(store_error)?;
        let access = stored.access_token.as_deref().unwrap_or_default();
        platform.open(access, &self.uuid, field::ACCESS_TOKEN)
    }
}

impl std::fmt::Debug for HerokuApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HerokuApi").field("uuid", &self.uuid).finish_non_exhaustive()
    }
}
