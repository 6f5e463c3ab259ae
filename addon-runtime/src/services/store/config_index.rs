//! Finding a live resource by the value of one of its config vars (an API key the app sends)
//! without a plain copy of any value: `addon_config_index` holds, per resource and var, a keyed
//! digest (HMAC-SHA256 with a key derived from `ADDON_TOKEN_KEY`) of the value. The config
//! itself stays sealed in `addon_resources`.
//!
//! The index is rewritten in the same transaction as the config it mirrors (provision, plan
//! change, a background job's config) and removed when the resource is deprovisioned.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};
use subtle::ConstantTimeEq;

use super::{ResourceRecord, ResourceState, Store, StoreError};

/// One index row: a var's name and its value's digest.
pub(super) type Entry = (String, String);

impl Store {
    /// The index rows of `config`, digested with the current key.
    pub(super) fn index_entries(&self, config: &BTreeMap<String, String>) -> Result<Vec<Entry>, StoreError> {
        self.with_keyring(|keyring| {
            config.iter().map(|(var, value)| (var.clone(), keyring.index_digest(var, value))).collect()
        })
    }

    /// The live resource whose config var `var` has the value `value`, found by the value's keyed
    /// digest (under the current token key or a previous one), then compared with the resource's
    /// own config in constant time. `None` if no live resource has it, or if more than one does
    /// (a key handed out twice must not open someone else's resource).
    pub async fn resource_by_config_var(
        &self,
        var: &str,
        value: &str,
    ) -> Result<Option<ResourceRecord>, StoreError> {
        if value.is_empty() {
            return Ok(None);
        }
        let digests = self.with_keyring(|keyring| keyring.index_digests(var, value))?;
        let mut candidates = Vec::new();
        for digest in &digests {
            let rows = sqlx::query("SELECT uuid FROM addon_config_index WHERE var = $1 AND digest = $2")
                .bind(var)
                .bind(digest)
                .fetch_all(&self.connections)
                .await?;
            for row in rows {
                let uuid: String = row.try_get("uuid")?;
                if !candidates.contains(&uuid) {
                    candidates.push(uuid);
                }
            }
        }
        let mut found: Option<ResourceRecord> = None;
        for uuid in candidates {
            let Some(record) = self.resource_by_uuid(&uuid).await? else { continue };
            let same = record
                .config_var(var)
                .is_some_and(|held| bool::from(held.as_bytes().ct_eq(value.as_bytes())));
            if record.state != ResourceState::Provisioned || !same {
                continue;
            }
            if found.is_some() {
                tracing::warn!(
                    var,
                    "two live resources have the same value of this config var: neither is chosen"
                );
                return Ok(None);
            }
            found = Some(record);
        }
        Ok(found)
    }
}

impl Store {
    /// Indexes the live resources that have config but no index rows: those recorded before the
    /// index existed. Run once as an app starts; the number indexed.
    pub(crate) async fn index_unindexed(&self) -> Result<usize, StoreError> {
        let sql = format!(
            "SELECT {} FROM addon_resources WHERE state IN ('provisioned', 'pending') AND config <> '{{}}' \
             AND NOT EXISTS (SELECT 1 FROM addon_config_index i WHERE i.uuid = addon_resources.uuid)",
            super::COLUMNS
        );
        let rows = sqlx::query(&sql).fetch_all(&self.connections).await?;
        let mut indexed = 0;
        for row in rows {
            let record = super::record::from_row(self, &row)?;
            let entries = self.index_entries(&record.config)?;
            if entries.is_empty() {
                continue;
            }
            let mut lent = self.connections.lend().await?;
            let mut tx = lent.begin().await?;
            replace(&mut tx, &record.uuid, &entries).await?;
            tx.commit().await?;
            lent.done();
            indexed += 1;
        }
        Ok(indexed)
    }
}

/// Replaces the resource's index rows with `entries` (on the caller's transaction).
pub(super) async fn replace(
    conn: &mut AnyConnection,
    uuid: &str,
    entries: &[Entry],
) -> Result<(), sqlx::Error> {
    remove(&mut *conn, uuid).await?;
    insert(conn, uuid, entries).await
}

/// Adds the resource's index rows in one statement (on the caller's transaction).
pub(super) async fn insert(
    conn: &mut AnyConnection,
    uuid: &str,
    entries: &[Entry],
) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> =
        (0..entries.len()).map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
    let sql = format!(
        "INSERT INTO addon_config_index (var, digest, uuid) VALUES {} ON CONFLICT DO NOTHING",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (var, digest) in entries {
        query = query.bind(var).bind(digest).bind(uuid);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Forgets the resource's index rows (on the caller's transaction).
pub(super) async fn remove(conn: &mut AnyConnection, uuid: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM addon_config_index WHERE uuid = $1").bind(uuid).execute(conn).await?;
    Ok(())
}
