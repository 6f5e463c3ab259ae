//! OAuth grant codes and tokens per resource, sealed with the token cipher before they are
//! written: the database never holds them in the clear.

use sqlx::AnyConnection;
use sqlx::Row;

use super::{Store, StoreError};

/// Sealed values as stored; the platform module opens them.
#[derive(Clone, Default)]
pub(crate) struct SealedTokens {
    pub(crate) grant_code: Option<String>,
    pub(crate) access_token: Option<String>,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_at: Option<i64>,
}

/// Keeps a grant Heroku sent until a job exchanges it (on the caller's transaction).
pub(super) async fn save_grant(
    conn: &mut AnyConnection,
    uuid: &str,
    sealed_code: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO addon_tokens (uuid, grant_code, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (uuid) DO UPDATE SET grant_code = $2, updated_at = $3",
    )
    .bind(uuid)
    .bind(sealed_code)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Stores fresh tokens and forgets the grant they came from. `refresh_token` of `None`
    /// keeps the one already stored (Heroku does not always send a new one on refresh).
    pub(crate) async fn save_tokens(
        &self,
        uuid: &str,
        access_token: &str,
        refresh_token: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO addon_tokens (uuid, access_token, refresh_token, expires_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (uuid) DO UPDATE SET grant_code = NULL, access_token = $2, \
             refresh_token = COALESCE($3, addon_tokens.refresh_token), expires_at = $4, updated_at = $5",
        )
        .bind(uuid)
        .bind(access_token)
        .bind(refresh_token)
        .bind(expires_at)
        .bind(now)
        .execute(&self.connections)
        .await?;
        Ok(())
    }

    pub(crate) async fn tokens(&self, uuid: &str) -> Result<SealedTokens, StoreError> {
        let row = sqlx::query(
            "SELECT grant_code, access_token, refresh_token, expires_at FROM addon_tokens WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&self.connections)
        .await?;
        let Some(row) = row else { return Ok(SealedTokens::default()) };
        Ok(SealedTokens {
            grant_code: row.try_get("grant_code")?,
            access_token: row.try_get("access_token")?,
            refresh_token: row.try_get("refresh_token")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}
