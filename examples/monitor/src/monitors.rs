//! Reads and writes of Pingly's tables. Every query is scoped by the resource's uuid, so one
//! app's key never reaches another app's monitors.

use std::time::{SystemTime, UNIX_EPOCH};

use addon_runtime::{AddonError, Store};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// How many checks are kept per monitor: enough for the dashboard's history, bounded whatever
/// the interval.
const CHECKS_KEPT: i64 = 20;

/// A monitor, with its latest check if it has had one.
#[derive(Clone, Debug, Serialize)]
pub struct Monitor {
    pub id: i64,
    pub url: String,
    /// Unix microseconds.
    pub created: i64,
    pub last_check: Option<Check>,
}

/// One probe of a monitor's URL.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The HTTP status, or 0 when the target did not answer within the timeout.
    pub status: u16,
    pub latency_ms: i64,
    /// Unix microseconds.
    pub checked_at: i64,
}

impl Check {
    /// Up: answered with a status below 400.
    pub fn up(&self) -> bool {
        (1..400).contains(&self.status)
    }
}

/// Unix microseconds: fine enough that two stamps on one machine rarely tie.
pub(crate) fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// A database failure: a 503 for the caller, the cause in the log.
pub(crate) fn unavailable(error: sqlx::Error) -> AddonError {
    AddonError::unavailable("Pingly's database is unavailable right now. Please try again.")
        .with_detail(error)
}

pub(crate) async fn count(store: &Store, uuid: &str) -> Result<u64, AddonError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pingly_monitors WHERE resource_uuid = $1")
        .bind(uuid)
        .fetch_one(store.vendor_pool())
        .await
        .map_err(unavailable)?;
    Ok(n.max(0) as u64)
}

/// Adds a monitor; its id and stamp.
pub(crate) async fn insert(store: &Store, uuid: &str, url: &str) -> Result<Monitor, AddonError> {
    let created = now_micros();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pingly_monitors (resource_uuid, url, created) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(uuid)
    .bind(url)
    .bind(created)
    .fetch_one(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    Ok(Monitor { id, url: url.to_owned(), created, last_check: None })
}

/// The resource's monitors, oldest first, each with its latest check.
pub(crate) async fn list(store: &Store, uuid: &str) -> Result<Vec<Monitor>, AddonError> {
    let rows = sqlx::query(
        "SELECT m.id, m.url, m.created, c.status, c.latency_ms, c.checked_at FROM pingly_monitors m \
         LEFT JOIN pingly_checks c ON c.id = (SELECT MAX(id) FROM pingly_checks WHERE monitor_id = m.id) \
         WHERE m.resource_uuid = $1 ORDER BY m.id",
    )
    .bind(uuid)
    .fetch_all(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    rows.iter().map(monitor).collect::<Result<_, _>>().map_err(unavailable)
}

fn monitor(row: &AnyRow) -> Result<Monitor, sqlx::Error> {
    let status: Option<i64> = row.try_get("status")?;
    let last_check = match status {
        Some(status) => Some(Check {
            status: u16::try_from(status).unwrap_or(0),
            latency_ms: row.try_get("latency_ms")?,
            checked_at: row.try_get("checked_at")?,
        }),
        None => None,
    };
    Ok(Monitor {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        created: row.try_get("created")?,
        last_check,
    })
}

/// Removes one of the resource's monitors and its checks; whether it existed.
pub(crate) async fn delete(store: &Store, uuid: &str, id: i64) -> Result<bool, AddonError> {
    let mut tx = store.vendor_pool().begin().await.map_err(unavailable)?;
    let done = sqlx::query("DELETE FROM pingly_monitors WHERE id = $1 AND resource_uuid = $2")
        .bind(id)
        .bind(uuid)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    if done.rows_affected() == 1 {
        sqlx::query("DELETE FROM pingly_checks WHERE monitor_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)?;
    Ok(done.rows_affected() == 1)
}

/// Removes everything Pingly keeps for a resource: at deprovision.
pub(crate) async fn forget(store: &Store, uuid: &str) -> Result<(), AddonError> {
    let mut tx = store.vendor_pool().begin().await.map_err(unavailable)?;
    for statement in [
        "DELETE FROM pingly_checks WHERE monitor_id IN (SELECT id FROM pingly_monitors WHERE resource_uuid = $1)",
        "DELETE FROM pingly_monitors WHERE resource_uuid = $1",
        "DELETE FROM pingly_plan_changes WHERE resource_uuid = $1",
    ] {
        sqlx::query(statement).bind(uuid).execute(&mut *tx).await.map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)
}

/// Every monitor of every resource, for the prober: `(id, url)`.
pub(crate) async fn all_targets(store: &Store) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, url FROM pingly_monitors ORDER BY id").fetch_all(store.vendor_pool()).await?;
    rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("url")?))).collect()
}

/// Records a check and drops the monitor's oldest beyond [`CHECKS_KEPT`]. A monitor deleted
/// while it was being probed gets no check: the insert only happens while it still exists.
pub(crate) async fn record(store: &Store, monitor_id: i64, check: &Check) -> Result<(), sqlx::Error> {
    let mut tx = store.vendor_pool().begin().await?;
    sqlx::query(
        "INSERT INTO pingly_checks (monitor_id, status, latency_ms, checked_at) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM pingly_monitors WHERE id = $1)",
    )
    .bind(monitor_id)
    .bind(i64::from(check.status))
    .bind(check.latency_ms)
    .bind(check.checked_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM pingly_checks WHERE monitor_id = $1 AND id NOT IN \
         (SELECT id FROM pingly_checks WHERE monitor_id = $1 ORDER BY id DESC LIMIT $2)",
    )
    .bind(monitor_id)
    .bind(CHECKS_KEPT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A plan change the vendor judged, as the dashboard shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PlanChange {
    pub from_plan: String,
    pub to_plan: String,
    pub accepted: bool,
    /// Unix microseconds: when the vendor started judging it, and when it answered.
    pub started: i64,
    pub finished: i64,
}

pub(crate) async fn record_plan_change(
    store: &Store,
    uuid: &str,
    change: &PlanChange,
) -> Result<(), AddonError> {
    sqlx::query(
        "INSERT INTO pingly_plan_changes (resource_uuid, from_plan, to_plan, accepted, started, finished) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid)
    .bind(&change.from_plan)
    .bind(&change.to_plan)
    .bind(i64::from(change.accepted))
    .bind(change.started)
    .bind(change.finished)
    .execute(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// The resource's plan changes, oldest first.
pub(crate) async fn plan_changes(store: &Store, uuid: &str) -> Result<Vec<PlanChange>, AddonError> {
    let rows = sqlx::query(
        "SELECT from_plan, to_plan, accepted, started, finished FROM pingly_plan_changes \
         WHERE resource_uuid = $1 ORDER BY id",
    )
    .bind(uuid)
    .fetch_all(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    rows.iter()
        .map(|row| {
            Ok(PlanChange {
                from_plan: row.try_get("from_plan")?,
                to_plan: row.try_get("to_plan")?,
                accepted: row.try_get::<i64, _>("accepted")? != 0,
                started: row.try_get("started")?,
                finished: row.try_get("finished")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(unavailable)
}
