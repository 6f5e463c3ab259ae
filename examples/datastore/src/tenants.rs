//! The datastore's own tables, in the registry's database: tenants with their credentials, and
//! their keys and values.

use addon_runtime::{AddonError, Store};
use sqlx::Row;

pub(crate) struct Tenant {
    pub(crate) username: String,
    pub(crate) secret: String,
}

pub(crate) async fn create_tables(store: &Store) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS datastore_tenants (uuid TEXT PRIMARY KEY, username TEXT NOT NULL, secret TEXT NOT NULL)",
    )
    .execute(store.vendor_pool())
    .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS datastore_entries (uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, \
         PRIMARY KEY (uuid, key))",
    )
    .execute(store.vendor_pool())
    .await?;
    Ok(())
}

/// A database failure: a 503 for the caller, the cause in the log.
fn unavailable(error: sqlx::Error) -> AddonError {
    AddonError::unavailable("The datastore is unavailable right now. Please try again.").with_detail(error)
}

/// The tenant of a resource, created with fresh credentials the first time.
pub(crate) async fn create(store: &Store, uuid: &str) -> Result<Tenant, AddonError> {
    let username = format!("t{}", &uuid.replace('-', "")[..12.min(uuid.len())]);
    sqlx::query(
        "INSERT INTO datastore_tenants (uuid, username, secret) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(uuid)
    .bind(&username)
    .bind(addon_runtime::random_secret())
    .execute(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    find(store, uuid).await?.ok_or_else(|| AddonError::unavailable("The tenant could not be created."))
}

pub(crate) async fn find(store: &Store, uuid: &str) -> Result<Option<Tenant>, AddonError> {
    let row = sqlx::query("SELECT username, secret FROM datastore_tenants WHERE uuid = $1")
        .bind(uuid)
        .fetch_optional(store.vendor_pool())
        .await
        .map_err(unavailable)?;
    row.map(|row| Ok(Tenant { username: row.try_get("username")?, secret: row.try_get("secret")? }))
        .transpose()
        .map_err(unavailable)
}

pub(crate) async fn remove(store: &Store, uuid: &str) -> Result<(), AddonError> {
    for table in ["datastore_entries", "datastore_tenants"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE uuid = $1"))
            .bind(uuid)
            .execute(store.vendor_pool())
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn count(store: &Store, uuid: &str) -> Result<i64, AddonError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM datastore_entries WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(store.vendor_pool())
        .await
        .map_err(unavailable)?;
    row.try_get("n").map_err(unavailable)
}

pub(crate) async fn get(store: &Store, uuid: &str, key: &str) -> Result<Option<String>, AddonError> {
    let row = sqlx::query("SELECT value FROM datastore_entries WHERE uuid = $1 AND key = $2")
        .bind(uuid)
        .bind(key)
        .fetch_optional(store.vendor_pool())
        .await
        .map_err(unavailable)?;
    row.map(|row| row.try_get("value")).transpose().map_err(unavailable)
}

pub(crate) async fn put(store: &Store, uuid: &str, key: &str, value: &str) -> Result<(), AddonError> {
    sqlx::query(
        "INSERT INTO datastore_entries (uuid, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (uuid, key) DO UPDATE SET value = $3",
    )
    .bind(uuid)
    .bind(key)
    .bind(value)
    .execute(store.vendor_pool())
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn delete(store: &Store, uuid: &str, key: &str) -> Result<bool, AddonError> {
    let done = sqlx::query("DELETE FROM datastore_entries WHERE uuid = $1 AND key = $2")
        .bind(uuid)
        .bind(key)
        .execute(store.vendor_pool())
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() == 1)
}
