//! Reads of one resource row that select only what an answer needs: no config to open, no
//! options to parse. The hot paths (a replayed provision, SSO, a plan change to the current plan)
//! answer from these; anything that changes a resource still reads the whole record.

use std::sync::LazyLock;

use sqlx::Row;

use super::record::{self, ResourceState};
use super::{Store, StoreError};
use crate::base::cipher::field;
use crate::base::protocol::Marketplace;

/// Finds the row with this uuid, else the one with this id (the vendor's own). Two index
/// lookups and no sort: an `OR` with an `ORDER BY` to prefer the uuid made SQLite build a
/// temporary b-tree for every sign-in.
pub(super) const BY_UUID_OR_ID: &str = "WHERE uuid = COALESCE(\
     (SELECT uuid FROM addon_resources WHERE uuid = $1), \
     (SELECT uuid FROM addon_resources WHERE id = $1))";

/// A resource's identity and standing.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) uuid: String,
    pub(crate) plan: String,
    pub(crate) state: ResourceState,
    /// Until when (Unix milliseconds) an operation holds the resource, if one does.
    pub(crate) lease_until: Option<i64>,
    pub(crate) marketplace: Marketplace,
    /// Whether the resource is suspended (its sign-in is refused).
    pub(crate) suspended: bool,
}

/// What a provision's replay needs of its uuid's row.
#[derive(Debug)]
pub(crate) struct ProvisionAnswer {
    pub(crate) state: ResourceState,
    pub(crate) lease_until: Option<i64>,
    /// The recorded status (200 or 202), once there is an answer.
    pub(crate) status: Option<i64>,
    /// The recorded body, opened; `Err` says why its seal did not open.
    pub(crate) body: Result<Option<String>, String>,
    /// Whose resource it is: a provision from another marketplace must not see its answer.
    pub(crate) marketplace: Marketplace,
}

impl Store {
    /// The uuid, plan, state and lease of the resource with this uuid, or with this id if the
    /// vendor chose its own.
    pub(crate) async fn summary(&self, uuid_or_id: &str) -> Result<Option<Summary>, StoreError> {
        // Written once: a plan change and a sign-in read it on every call.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!("SELECT uuid, plan, state, lease_until, marketplace, suspended_at FROM addon_resources {BY_UUID_OR_ID}")
        });
        let row = sqlx::query(&SQL).bind(uuid_or_id).fetch_optional(&self.connections).await?;
        let summary = row.map(|row| -> Result<Summary, sqlx::Error> {
            let state: &str = row.try_get("state")?;
            Ok(Summary {
                uuid: row.try_get("uuid")?,
                plan: row.try_get("plan")?,
                state: ResourceState::parse(state)?,
                lease_until: row.try_get("lease_until")?,
                marketplace: record::marketplace(&row)?,
                suspended: row.try_get::<Option<i64>, _>("suspended_at")?.is_some(),
            })
        });
        Ok(summary.transpose()?)
    }

    /// The state of `uuid`'s row and its recorded answer (opened), if it has one: a replay is
    /// this one read and one open.
    pub(crate) async fn provision_answer(&self, uuid: &str) -> Result<Option<ProvisionAnswer>, StoreError> {
        let row = sqlx::query(
            "SELECT state, lease_until, response_status, response, marketplace FROM addon_resources WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&self.connections)
        .await?;
        let answer = row.map(|row| -> Result<ProvisionAnswer, sqlx::Error> {
            // Borrowed from the row: a replay copies the answer once, as it opens it.
            let state: &str = row.try_get("state")?;
            let response: Option<&str> = row.try_get("response")?;
            let body = response.map(|text| self.open_sealed(uuid, field::RESPONSE, text)).transpose();
            if let Err(why) = &body {
                tracing::warn!(uuid = %uuid, field = field::RESPONSE, "a sealed value in the registry did not open: {why}");
            }
            Ok(ProvisionAnswer {
                state: ResourceState::parse(state)?,
                lease_until: row.try_get("lease_until")?,
                status: row.try_get("response_status")?,
                body,
                marketplace: record::marketplace(&row)?,
            })
        });
        Ok(answer.transpose()?)
    }
}
