//! Suspension, beside the state machine: a suspended resource stays `provisioned` with all its
//! data, and `suspended_at` says since when it is refused (sign-in, sessions, its API key).
//! Marketplace-neutral: DigitalOcean's notifications set it, and so can the vendor's own code
//! for a Heroku resource. Also the other facts a marketplace reports about a resource: a
//! deprovision that failed on its side, and a new plan or name.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Suspends a resource that is not deprovisioned; false if the registry has no such resource
    /// (or it is already suspended, which changes nothing).
    pub async fn suspend(&self, uuid: &str) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE addon_resources SET suspended_at = $2, updated_at = $2 \
             WHERE uuid = $1 AND state <> 'deprovisioned' AND suspended_at IS NULL",
        )
        .bind(uuid)
        .bind(self.now_ms())
        .execute(&self.connections)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Lifts a suspension; false if the resource was not suspended.
    pub async fn reactivate(&self, uuid: &str) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE addon_resources SET suspended_at = NULL, updated_at = $2 \
             WHERE uuid = $1 AND suspended_at IS NOT NULL",
        )
        .bind(uuid)
        .bind(self.now_ms())
        .execute(&self.connections)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Since when (Unix milliseconds) the resource is suspended, if it is.
    pub async fn suspended_since(&self, uuid: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT suspended_at FROM addon_resources WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(&self.connections)
            .await?;
        Ok(row.map(|row| row.try_get::<Option<i64>, _>("suspended_at")).transpose()?.flatten())
    }

    /// Records that the marketplace could not deprovision the resource on its side; false if
    /// the registry has no such resource.
    pub(crate) async fn record_deprovision_failed(&self, uuid: &str) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE addon_resources SET deprovision_failed_at = $2, updated_at = $2 WHERE uuid = $1",
        )
        .bind(uuid)
        .bind(self.now_ms())
        .execute(&self.connections)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The plan and name the marketplace now reports for a live resource (either may be
    /// unchanged); false if there is no such live resource.
    pub(crate) async fn record_listing(
        &self,
        uuid: &str,
        plan: Option<&str>,
        name: Option<&str>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE addon_resources SET plan = COALESCE($2, plan), name = COALESCE($3, name), updated_at = $4 \
             WHERE uuid = $1 AND state IN ('provisioned', 'pending')",
        )
        .bind(uuid)
        .bind(plan)
        .bind(name)
        .bind(self.now_ms())
        .execute(&self.connections)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
