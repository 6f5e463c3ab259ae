//! Durable background work: one row per job, claimed by exactly one runner at a time with a
//! lease (`UPDATE .. WHERE lease expired .. RETURNING`), retried with backoff until it succeeds
//! or its deadline passes.

use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::Row;

use super::tokens::save_grant;
use super::{Store, StoreError};
use crate::base::clock::millis;

/// What a job does; stored as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// Exchange the OAuth grant, run the vendor's `#[complete_provision]`, set the config through
    /// the Platform API, then tell Heroku the add-on is provisioned.
    Provision,
    /// Run the vendor's `#[complete_plan_change]` and set any new config.
    PlanChange,
    /// Run the vendor's `#[complete_deprovision]`, then tell Heroku the add-on is deprovisioned.
    Deprovision,
    /// Only exchange the OAuth grant (a synchronous provision that came with one).
    Grant,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::PlanChange => "plan_change",
            Self::Deprovision => "deprovision",
            Self::Grant => "grant",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Provision, Self::PlanChange, Self::Deprovision, Self::Grant]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A job a runner holds the lease of.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) kind: JobKind,
    pub(crate) uuid: String,
    pub(crate) payload: serde_json::Value,
    /// Including this one.
    pub(crate) attempts: i64,
    pub(crate) deadline: i64,
}

/// A job to add in the same transaction as the change to the resource that calls for it: no
/// runner can see the job before the change, and neither is recorded without the other.
pub(crate) struct FollowUp {
    pub(crate) kind: JobKind,
    pub(crate) payload: serde_json::Value,
    /// When the job is due (now, by the app's clock).
    pub(crate) now: i64,
    /// When the job fails for good if it has not succeeded.
    pub(crate) deadline: i64,
    /// A grant Heroku sent, sealed, for the job to exchange.
    pub(crate) sealed_grant: Option<String>,
}

impl FollowUp {
    pub(crate) fn new(kind: JobKind, now: i64, deadline: i64) -> Self {
        FollowUp { kind, payload: serde_json::json!({}), now, deadline, sealed_grant: None }
    }
}

/// Writes a follow-up's job (and grant) on the transaction's connection.
pub(super) async fn add(
    conn: &mut AnyConnection,
    uuid: &str,
    follow_up: &FollowUp,
) -> Result<(), sqlx::Error> {
    if let Some(sealed) = &follow_up.sealed_grant {
        save_grant(&mut *conn, uuid, sealed, follow_up.now).await?;
    }
    sqlx::query(
        "INSERT INTO addon_jobs (id, kind, uuid, payload, state, attempts, run_at, deadline, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $5, $5)",
    )
    .bind(addon_manifest::random_secret())
    .bind(follow_up.kind.as_str())
    .bind(uuid)
    .bind(follow_up.payload.to_string())
    .bind(follow_up.now)
    .bind(follow_up.deadline)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The jobs of a resource that are still to run are dropped: it is being deprovisioned.
pub(super) async fn cancel(conn: &mut AnyConnection, uuid: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE addon_jobs SET state = 'cancelled', updated_at = $2 WHERE uuid = $1 AND state = 'pending'",
    )
    .bind(uuid)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Claims the job that is due first and not held by a live lease; `None` if there is none.
    /// The outer `WHERE` repeats the conditions, so of two runners racing for one job exactly
    /// one updates it.
    pub(crate) async fn claim_job(&self, now: i64, lease: Duration) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(
            "UPDATE addon_jobs SET lease_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id = (SELECT id FROM addon_jobs WHERE state = 'pending' AND run_at <= $2 \
                         AND (lease_until IS NULL OR lease_until < $2) ORDER BY run_at LIMIT 1) \
             AND state = 'pending' AND (lease_until IS NULL OR lease_until < $2) \
             RETURNING id, kind, uuid, payload, attempts, deadline",
        )
        .bind(now + millis(lease))
        .bind(now)
        .fetch_optional(&self.connections)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind")?;
        let payload: String = row.try_get("payload")?;
        Ok(Some(Job {
            id: row.try_get("id")?,
            kind: JobKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown job kind `{kind}`").into()))?,
            uuid: row.try_get("uuid")?,
            payload: serde_json::from_str(&payload).unwrap_or_default(),
            attempts: row.try_get("attempts")?,
            deadline: row.try_get("deadline")?,
        }))
    }

    pub(crate) async fn finish_job(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            // A job cancelled while it ran (its resource was deprovisioned) stays cancelled; either
            // way its runner lets it go.
            "UPDATE addon_jobs SET state = CASE WHEN state = 'pending' THEN 'done' ELSE state END, \
             lease_until = NULL, updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&self.connections)
        .await?;
        Ok(())
    }

    /// Puts the job back to run again at `run_at`, keeping what went wrong.
    pub(crate) async fn retry_job(
        &self,
        id: &str,
        run_at: i64,
        error: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE addon_jobs SET run_at = $2, lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(&self.connections)
        .await?;
        Ok(())
    }

    /// Gives the job up for good. A provision job takes its resource with it, in the same
    /// transaction: even if the job got as far as recording it live, Heroku never heard so, and
    /// removes it.
    pub(crate) async fn fail_job(&self, job: &Job, error: &str, now: i64) -> Result<(), StoreError> {
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        sqlx::query(
            "UPDATE addon_jobs SET state = 'failed', lease_until = NULL, last_error = $2, updated_at = $3 \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(&job.id)
        .bind(error)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if job.kind == JobKind::Provision {
            sqlx::query(
                "UPDATE addon_resources SET state = 'failed', updated_at = $2 \
                 WHERE uuid = $1 AND state IN ('pending', 'provisioned')",
            )
            .bind(&job.uuid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        lent.done();
        Ok(())
    }

    /// The state, attempts and last error of a resource's jobs, oldest first: for tests and
    /// operators.
    pub async fn job_history(
        &self,
        uuid: &str,
    ) -> Result<Vec<(String, String, i64, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, state, attempts, last_error FROM addon_jobs WHERE uuid = $1 ORDER BY created_at, id",
        )
        .bind(uuid)
        .fetch_all(&self.connections)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("kind")?,
                    row.try_get("state")?,
                    row.try_get("attempts")?,
                    row.try_get("last_error")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
