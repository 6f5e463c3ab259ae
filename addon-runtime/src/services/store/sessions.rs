//! Sessions in the registry: the ones signed out before their cookie expires, and whether a
//! session's resource is still live. The cookie itself is stateless; these rows are what lets
//! signing out and deprovisioning end it on every instance.

use sqlx::Row;

use super::{ResourceState, Store, StoreError};

/// Whether a genuine, unexpired session cookie still opens its resource's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Live,
    /// Signed out.
    Ended,
    /// The resource was deprovisioned, or this registry never knew it.
    Gone,
    /// The resource is suspended: the session works again once it is reactivated.
    Suspended,
}

impl Store {
    /// One query for both questions, as it runs on every page a signed-in user opens.
    pub(crate) async fn session_standing(&self, uuid: &str, sid: &str) -> Result<Standing, StoreError> {
        let row = sqlx::query(
            "SELECT state, suspended_at, (SELECT COUNT(*) FROM addon_ended_sessions WHERE sid = $2) AS ended \
             FROM addon_resources WHERE uuid = $1",
        )
        .bind(uuid)
        .bind(sid)
        .fetch_optional(&self.connections)
        .await?;
        let Some(row) = row else {
            return Ok(Standing::Gone);
        };
        let state: String = row.try_get("state")?;
        let ended: i64 = row.try_get("ended")?;
        let suspended = row.try_get::<Option<i64>, _>("suspended_at")?.is_some();
        Ok(if state != ResourceState::Provisioned.as_str() {
            Standing::Gone
        } else if ended > 0 {
            Standing::Ended
        } else if suspended {
            Standing::Suspended
        } else {
            Standing::Live
        })
    }

    /// Records a session as signed out until its cookie would have expired anyway, and forgets
    /// the ones past that point, so the table holds only sessions that could still be presented.
    pub(crate) async fn end_session(&self, sid: &str, expires_at: u64) -> Result<(), StoreError> {
        let expires_at = i64::try_from(expires_at).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO addon_ended_sessions (sid, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(sid)
        .bind(expires_at)
        .execute(&self.connections)
        .await?;
        sqlx::query("DELETE FROM addon_ended_sessions WHERE expires_at < $1")
            .bind(i64::try_from(self.clock.now_secs()).unwrap_or(i64::MAX))
            .execute(&self.connections)
            .await?;
        Ok(())
    }

    /// Records a signed SSO form by its proof until it goes stale, and answers whether this is
    /// the first time any instance saw it. The insert decides, so two instances racing on one
    /// form cannot both win.
    pub(crate) async fn first_sight(&self, proof: &str, valid_until: u64) -> Result<bool, StoreError> {
        let now = i64::try_from(self.clock.now_secs()).unwrap_or(i64::MAX);
        sqlx::query("DELETE FROM addon_seen_logins WHERE expires_at < $1")
            .bind(now)
            .execute(&self.connections)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO addon_seen_logins (proof, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(proof)
        .bind(i64::try_from(valid_until).unwrap_or(i64::MAX))
        .execute(&self.connections)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }
}
