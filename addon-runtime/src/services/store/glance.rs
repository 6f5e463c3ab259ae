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
    /// this one read and, the first time this process answers it, one open (`opened.rs`).
    pub(crate) async fn provision_answer(&self, uuid: &str) -> Result<Option<ProvisionAnswer>, StoreError> {
        let row = sqlx::query(
            "SELECT state, lease_until, response_status, response, marketplace FROM addon_resources WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&self.connections)
        .await?;
        let answer = row.map(|row| -> Result<ProvisionAnswer, sqlx::Error> {
            let state = ResourceState::parse(row.try_get("state")?)?;
            // A removed resource's answer is never given again: not opened, and not kept.
            let sealed: Option<&str> = if state == ResourceState::Deprovisioned {
                self.opened.forget(uuid);
                None
            } else {
                // Borrowed from the row: the sealed text is compared or opened where it lies.
                row.try_get("response")?
            };
            let body = sealed.map(|sealed| self.open_answer(uuid, sealed)).transpose();
            if let Err(why) = &body {
                tracing::warn!(uuid = %uuid, field = field::RESPONSE, "a sealed value in the registry did not open: {why}");
            }
            Ok(ProvisionAnswer {
                state,
                lease_until: row.try_get("lease_until")?,
                status: row.try_get("response_status")?,
                body,
                marketplace: record::marketplace(&row)?,
            })
        });
        Ok(answer.transpose()?)
    }

    /// A recorded answer opened, or as this process opened that very text before.
    fn open_answer(&self, uuid: &str, sealed: &str) -> Result<String, String> {
        if let Some(plain) = self.opened.get(uuid, sealed) {
            return Ok(plain);
        }
        let plain = self.open_sealed(uuid, field::RESPONSE, sealed)?;
        self.opened.keep(uuid, sealed, &plain);
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::base::cipher::Keyring;
    use crate::base::protocol::ProvisionRequest;
    use crate::services::store::Claim;

    const UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

    async fn store() -> Store {
        let name = format!("addon-runtime-glance-{}.db", addon_manifest::random_secret());
        let store =
            Store::open(&format!("sqlite://{}", std::env::temp_dir().join(name).display())).await.unwrap();
        store.use_keyring(Keyring::new(b"a key", &[]));
        store
    }

    async fn replay(store: &Store) -> (ResourceState, Option<String>) {
        let answer = store.provision_answer(UUID).await.unwrap().expect("the row");
        (answer.state, answer.body.unwrap())
    }

    /// A replay answers what the row holds at that moment, though this process opened an earlier
    /// text of it: the answer sealed anew is opened anew, and a removed resource has none.
    #[tokio::test]
    async fn a_replay_answers_the_row_as_it_is_now() {
        let store = store().await;
        let request = ProvisionRequest::new(UUID, "test");
        assert!(matches!(
            store.claim_provision(&request, Duration::from_secs(60)).await.unwrap(),
            Claim::Owned
        ));
        store.complete_provision(UUID, UUID, (200, r#"{"n":1}"#), &BTreeMap::new(), None).await.unwrap();
        assert_eq!(replay(&store).await, (ResourceState::Provisioned, Some(r#"{"n":1}"#.to_owned())));
        assert_eq!(replay(&store).await.1.as_deref(), Some(r#"{"n":1}"#), "answered again as kept");

        let resealed = store.seal(UUID, field::RESPONSE, r#"{"n":2}"#).unwrap();
        let rewrite = "UPDATE addon_resources SET response = $1 WHERE uuid = $2";
        sqlx::query(rewrite).bind(&resealed).bind(UUID).execute(store.pool()).await.unwrap();
        assert_eq!(replay(&store).await.1.as_deref(), Some(r#"{"n":2}"#));

        store.mark_deprovisioned(UUID, None).await.unwrap();
        assert_eq!(store.opened.get(UUID, &resealed), None, "a removed resource's answer is not kept");
        assert_eq!(replay(&store).await, (ResourceState::Deprovisioned, None));
    }
}
