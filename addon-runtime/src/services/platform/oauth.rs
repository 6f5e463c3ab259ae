//! `POST {HEROKU_OAUTH_URL}/oauth/token`: the grant exchange and the refresh, form-encoded as
//! Heroku's documentation shows.

use serde::Deserialize;

use crate::base::cipher::{field, Binding};

use super::error::{from_response, PlatformError};
use super::Platform;

#[derive(Deserialize)]
pub(super) struct TokenAnswer {
    pub(super) access_token: String,
    #[serde(default)]
    pub(super) refresh_token: Option<String>,
    #[serde(default = "default_lifetime")]
    pub(super) expires_in: i64,
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

    pub(super) async fn save(&self, uuid: &str, answer: &TokenAnswer) -> Result<(), PlatformError> {
        let now = self.clock.now_ms();
        // Heroku's number, so checked: a huge or negative `expires_in` is a token that must be
        // refreshed at once or one that lasts very long, never an overflow.
        let expires_at = now.saturating_add(answer.expires_in.max(0).saturating_mul(1000));
        let access = self.cipher.seal(&answer.access_token, Binding::new(uuid, field::ACCESS_TOKEN));
        let refresh = answer
            .refresh_token
            .as_deref()
            .map(|t| self.cipher.seal(t, Binding::new(uuid, field::REFRESH_TOKEN)));
        self.store
            .save_tokens(uuid, &access, refresh.as_deref(), expires_at, now)
            .await
            .map_err(|e| PlatformError::config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Platform, TokenAnswer};
    use crate::base::cipher::{field, Keyring};
    use crate::base::clock::system;
    use crate::base::settings::Settings;
    use crate::services::store::Store;

    async fn platform(store: &Store, current: &str, previous: &[&str]) -> Arc<Platform> {
        let previous: Vec<Vec<u8>> = previous.iter().map(|k| k.as_bytes().to_vec()).collect();
        let keyring = Keyring::new(current.as_bytes(), &previous);
        store.use_keyring(keyring.clone());
        let settings =
            Settings::development("password-0123456789abcdefghijkl", "salt-0123456789abcdefghijklmnopq");
        Arc::new(Platform::new(&settings, store.clone(), keyring, system()))
    }

    /// Tokens sealed with key A open with B current and A previous; a refresh seals with B; with
    /// A dropped, A's tokens are a clear error naming the key settings, B's open.
    #[tokio::test]
    async fn tokens_survive_a_key_rotation_and_refuse_cleanly_once_the_key_is_dropped() {
        let path =
            std::env::temp_dir().join(format!("addon-runtime-tokens-{}.db", addon_manifest::random_secret()));
        let store = Store::open(&format!("sqlite://{}", path.display())).await.unwrap();
        let answer = |token: &str| TokenAnswer {
            access_token: token.to_owned(),
            refresh_token: Some(format!("refresh-{token}")),
            expires_in: 3600,
        };
        let with_a = platform(&store, "key A", &[]).await;
        with_a.save("uuid-a", &answer("access-a")).await.unwrap();
        let sealed_a = store.tokens("uuid-a").await.unwrap();

        let rotating = platform(&store, "key B", &["key A"]).await;
        let access = sealed_a.access_token.as_deref().unwrap();
        assert_eq!(rotating.open(access, "uuid-a", field::ACCESS_TOKEN).unwrap(), "access-a");
        let refresh = sealed_a.refresh_token.as_deref().unwrap();
        assert_eq!(rotating.open(refresh, "uuid-a", field::REFRESH_TOKEN).unwrap(), "refresh-access-a");
        assert!(rotating.open(access, "uuid-b", field::ACCESS_TOKEN).is_err(), "bound to its resource");
        assert!(rotating.open(access, "uuid-a", field::REFRESH_TOKEN).is_err(), "bound to its field");
        rotating.save("uuid-b", &answer("access-b")).await.unwrap();

        let b_only = platform(&store, "key B", &[]).await;
        let sealed_b = store.tokens("uuid-b").await.unwrap();
        assert_eq!(
            b_only.open(sealed_b.access_token.as_deref().unwrap(), "uuid-b", field::ACCESS_TOKEN).unwrap(),
            "access-b"
        );
        let refused = b_only.open(access, "uuid-a", field::ACCESS_TOKEN).unwrap_err();
        assert!(refused.message.contains("ADDON_TOKEN_KEYS_PREVIOUS"), "{}", refused.message);
        assert!(!refused.message.contains("access-a"));
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
