//! What the Open Service Broker adapter keeps beside a resource's row: the attributes its
//! instance was provisioned with (so a repeated PUT is told identical from different), and its
//! bindings with the credentials each was given (so a repeated bind gets the same ones).
//! Parameters and credentials are sealed like the rest of the registry's secrets.

use sqlx::Row;

use super::{Store, StoreError};
use crate::base::cipher::field;

/// An instance as the platform described it when it asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OsbInstance {
    pub(crate) service_id: String,
    pub(crate) plan_id: String,
    /// The provision's `parameters`, as JSON text (`{}` when none were sent).
    pub(crate) parameters: String,
}

/// A binding as the platform asked for it, and the credentials it was answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OsbBinding {
    pub(crate) uuid: String,
    pub(crate) service_id: String,
    pub(crate) plan_id: String,
    /// `bind_resource` and `parameters`, as JSON text: what makes two binds identical.
    pub(crate) attributes: String,
    /// The `credentials` object, as JSON text; empty while the bind is under way.
    pub(crate) credentials: String,
}

/// Where a background job of a resource stands (the latest of its kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobStanding {
    Running,
    Done,
    Failed,
}

impl Store {
    /// Records the instance's attributes unless the instance id is known; the attributes on
    /// record either way, and whether this call inserted them.
    pub(crate) async fn claim_osb_instance(
        &self,
        uuid: &str,
        instance: &OsbInstance,
    ) -> Result<(OsbInstance, bool), StoreError> {
        let now = self.now_ms();
        let inserted = sqlx::query(
            "INSERT INTO addon_osb_instances (uuid, service_id, plan_id, parameters, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (uuid) DO NOTHING",
        )
        .bind(uuid)
        .bind(&instance.service_id)
        .bind(&instance.plan_id)
        .bind(self.seal(uuid, field::OSB_PARAMETERS, &instance.parameters)?)
        .bind(now)
        .execute(&self.connections)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            return Ok((instance.clone(), true));
        }
        match self.osb_instance(uuid).await? {
            Some(existing) => Ok((existing, false)),
            // Forgotten between the two statements (its provision failed): claim again.
            None => Box::pin(self.claim_osb_instance(uuid, instance)).await,
        }
    }

    /// The instance's attributes, if the platform provisioned it.
    pub(crate) async fn osb_instance(&self, uuid: &str) -> Result<Option<OsbInstance>, StoreError> {
        let row =
            sqlx::query("SELECT service_id, plan_id, parameters FROM addon_osb_instances WHERE uuid = $1")
                .bind(uuid)
                .fetch_optional(&self.connections)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: &str = row.try_get("parameters")?;
        let parameters = self.open_sealed(uuid, field::OSB_PARAMETERS, sealed).map_err(decode_error)?;
        Ok(Some(OsbInstance {
            service_id: row.try_get("service_id")?,
            plan_id: row.try_get("plan_id")?,
            parameters,
        }))
    }

    /// The plan the instance is on now, after an update moved it.
    pub(crate) async fn set_osb_plan(&self, uuid: &str, plan_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE addon_osb_instances SET plan_id = $2, updated_at = $3 WHERE uuid = $1")
            .bind(uuid)
            .bind(plan_id)
            .bind(self.now_ms())
            .execute(&self.connections)
            .await?;
        Ok(())
    }

    /// Forgets an instance whose provision never got recorded (the vendor refused or failed), so
    /// the platform's retry, with any attributes, starts afresh. A recorded resource keeps it.
    pub(crate) async fn forget_osb_instance(&self, uuid: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM addon_osb_instances WHERE uuid = $1 \
             AND NOT EXISTS (SELECT 1 FROM addon_resources WHERE addon_resources.uuid = $1)",
        )
        .bind(uuid)
        .execute(&self.connections)
        .await?;
        Ok(())
    }

    /// The instance is gone: its bindings (with their credentials) go, and its parameters are
    /// scrubbed; the row stays, so the instance id stays this marketplace's (a poll of the
    /// deprovision, a repeated DELETE) and is never provisioned again.
    pub(crate) async fn remove_osb_instance(&self, uuid: &str) -> Result<(), StoreError> {
        let scrubbed = self.seal(uuid, field::OSB_PARAMETERS, "{}")?;
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        sqlx::query("DELETE FROM addon_osb_bindings WHERE uuid = $1").bind(uuid).execute(&mut *tx).await?;
        sqlx::query("UPDATE addon_osb_instances SET parameters = $2, updated_at = $3 WHERE uuid = $1")
            .bind(uuid)
            .bind(scrubbed)
            .bind(self.now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        lent.done();
        Ok(())
    }

    /// Claims a binding id for `binding` (its credentials not yet made: the row's credentials
    /// are empty until [`Store::complete_osb_binding`]), unless another claim holds it. A claim
    /// whose credentials never came and that is older than `stale_ms` (its process died) is
    /// taken over. `None`: claimed by this call; else the binding on record.
    pub(crate) async fn claim_osb_binding(
        &self,
        binding_id: &str,
        binding: &OsbBinding,
        stale_ms: i64,
    ) -> Result<Option<OsbBinding>, StoreError> {
        let now = self.now_ms();
        let attributes = self.seal(binding_id, field::OSB_BINDING_ATTRIBUTES, &binding.attributes)?;
        let inserted = sqlx::query(
            "INSERT INTO addon_osb_bindings (binding_id, uuid, service_id, plan_id, attributes, credentials, created_at) \
             VALUES ($1, $2, $3, $4, $5, '', $6) ON CONFLICT (binding_id) DO NOTHING",
        )
        .bind(binding_id)
        .bind(&binding.uuid)
        .bind(&binding.service_id)
        .bind(&binding.plan_id)
        .bind(&attributes)
        .bind(now)
        .execute(&self.connections)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            return Ok(None);
        }
        let taken_over = sqlx::query(
            "UPDATE addon_osb_bindings SET uuid = $2, service_id = $3, plan_id = $4, attributes = $5, created_at = $6 \
             WHERE binding_id = $1 AND credentials = '' AND created_at < $7",
        )
        .bind(binding_id)
        .bind(&binding.uuid)
        .bind(&binding.service_id)
        .bind(&binding.plan_id)
        .bind(&attributes)
        .bind(now)
        .bind(now - stale_ms)
        .execute(&self.connections)
        .await?
        .rows_affected()
            == 1;
        if taken_over {
            tracing::warn!(binding_id, "took over a bind whose previous attempt never finished");
            return Ok(None);
        }
        match self.osb_binding(binding_id).await? {
            Some(existing) => Ok(Some(existing)),
            // Abandoned between the two statements: claim again.
            None => Box::pin(self.claim_osb_binding(binding_id, binding, stale_ms)).await,
        }
    }

    /// Records the credentials of a binding this process claimed.
    pub(crate) async fn complete_osb_binding(
        &self,
        binding_id: &str,
        credentials: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE addon_osb_bindings SET credentials = $2 WHERE binding_id = $1 AND credentials = ''",
        )
        .bind(binding_id)
        .bind(self.seal(binding_id, field::OSB_BINDING_CREDENTIALS, credentials)?)
        .execute(&self.connections)
        .await?;
        Ok(())
    }

    /// Gives up a claim whose credentials could not be made: the platform's retry starts afresh.
    pub(crate) async fn abandon_osb_binding(&self, binding_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM addon_osb_bindings WHERE binding_id = $1 AND credentials = ''")
            .bind(binding_id)
            .execute(&self.connections)
            .await?;
        Ok(())
    }

    /// A binding by its id, with its credentials opened (empty while its bind is under way).
    pub(crate) async fn osb_binding(&self, binding_id: &str) -> Result<Option<OsbBinding>, StoreError> {
        let row = sqlx::query(
            "SELECT uuid, service_id, plan_id, attributes, credentials FROM addon_osb_bindings WHERE binding_id = $1",
        )
        .bind(binding_id)
        .fetch_optional(&self.connections)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let open = |field: &'static str, column: &str| -> Result<String, StoreError> {
            let sealed: &str = row.try_get(column)?;
            if sealed.is_empty() {
                return Ok(String::new());
            }
            self.open_sealed(binding_id, field, sealed).map_err(decode_error)
        };
        Ok(Some(OsbBinding {
            uuid: row.try_get("uuid")?,
            service_id: row.try_get("service_id")?,
            plan_id: row.try_get("plan_id")?,
            attributes: open(field::OSB_BINDING_ATTRIBUTES, "attributes")?,
            credentials: open(field::OSB_BINDING_CREDENTIALS, "credentials")?,
        }))
    }

    /// Removes a binding of the instance `uuid`; false if there was none.
    pub(crate) async fn remove_osb_binding(&self, uuid: &str, binding_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM addon_osb_bindings WHERE binding_id = $1 AND uuid = $2")
            .bind(binding_id)
            .bind(uuid)
            .execute(&self.connections)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The latest job of `kind` (`provision`, `plan_change`, `deprovision`) for the resource.
    pub(crate) async fn job_standing(
        &self,
        uuid: &str,
        kind: &str,
    ) -> Result<Option<JobStanding>, StoreError> {
        let row = sqlx::query(
            "SELECT state FROM addon_jobs WHERE uuid = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(uuid)
        .bind(kind)
        .fetch_optional(&self.connections)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state")?;
        Ok(Some(match state.as_str() {
            "pending" => JobStanding::Running,
            "failed" => JobStanding::Failed,
            _ => JobStanding::Done,
        }))
    }
}

fn decode_error(why: String) -> StoreError {
    StoreError(sqlx::Error::Decode(why.into()))
}
