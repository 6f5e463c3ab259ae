//! `POST {HEROKU_OAUTH_URL}/oauth/token`: the grant exchange and the refresh, form-encoded as
//! Heroku's documentation shows.

use serde::Deserialize;

use crate::base::cipher::{field, Binding};

use super::error::{from_response, PlatformError};
use super::Platform;

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default = "default_lifetime")]
    expires_in: i64,
}

/// Heroku's tokens last eight hours; assume so if the answer does not say.
fn default_lifetime() -> i64 {
    28_800
}

impl Platform {
    fn secret(&self) -> Result<&str, PlatformError> {
        self.client_secret.as_deref().ok_or_else(|| {
            PlatformError::config("HEROKU_OAUTH_CLIENT_SECRET is not set: the Platform API needs the add-on's OAuth client secret")
        })
    }

    /// Exchanges the resource's stored grant code for tokens, if it has one not yet exchanged.
    pub(crate) async fn exchange_grant(&self, uuid: &str) -> Result<(), PlatformError> {
        let stored = self.store.tokens(uuid).await.map_err(|e| PlatformError::config(e.to_string()))?;
        let Some(sealed) = stored.grant_code else { return Ok(()) };
        let code = self.open(&sealed, uuid, field::GRANT_CODE)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_secret", self.secret()?),
        ];
        let answer = self.token_request(&form).await?;
        self.save(uuid, &answer).await
    }

    /// A new access token from the stored refresh token.
    pub(crate) async fn refresh(&self, uuid: &str, refresh_token: &str) -> Result<(), PlatformError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_secret", self.secret()?),
        ];
        let answer = self.token_request(&form).await?;
        self.save(uuid, &answer).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenAnswer, PlatformError> {
        let body = serde_urlencoded::to_string(form).map_err(|e| PlatformError::config(e.to_string()))?;
        let response = self
            .http
            .post(format!("{}/oauth/token", self.oauth_url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PlatformError::network(&e))?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        response
            .json()
            .await
            .map_err(|e| PlatformError::config(format!("Heroku's token answer is not valid: {e}")))
    }

    async fn save(&self, uuid: &str, answer: &TokenAnswer) -> Result<(), PlatformError> {
        let now = self.clock.now_ms();
        let access = self.cipher.seal(&answer.access_token, Binding::new(uuid, field::ACCESS_TOKEN));
        let refresh = answer
            .refresh_token
            .as_deref()
            .map(|t| self.cipher.seal(t, Binding::new(uuid, field::REFRESH_TOKEN)));
        self.store
            .save_tokens(uuid, &access, refresh.as_deref(), now + answer.expires_in * 1000, now)
            .await
            .map_err(|e| PlatformError::config(e.to_string()))
    }
}
