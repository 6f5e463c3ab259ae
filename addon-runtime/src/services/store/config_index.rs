//! Finding a live resource by the value of one of its config vars (an API key the app sends)
//! without a plain copy of any value, by a keyed digest (HMAC-SHA256 with a key derived from
//! `ADDON_TOKEN_KEY`) of the var and its value. The config itself stays sealed in
//! `addon_resources`. The digests are kept in one of two places:
//!
//! - when the add-on declares its API key var (`api_key = "..."`), that var's digest alone, in
//!   the resource row's `key_digest` column: written by the same statement as the config, with
//!   one index entry;
//! - otherwise every var's, in `addon_config_index`, a row per var: any var can be the key.
//!
//! A lookup reads both, so resources indexed before a declaration (or by an instance still
//! running without it) are found. The index is written in the same transaction as the config it
//! mirrors (provision, plan change, a background job's config) and removed when the resource is
//! deprovisioned.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};
use subtle::ConstantTimeEq;

use super::{ResourceRecord, ResourceState, Store, StoreError};

/// One index row: a var's name and its value's digest.
pub(super) type Entry = (String, String);

/// A config's index, digested with the current key, as it is written.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// The declared API key var's digest, for the row's `key_digest` column (`None` when no key
    /// is declared, or the config has no value for it).
    pub(super) key_digest: Option<String>,
    /// The rows of `addon_config_index` (none when a key is declared).
    pub(super) rows: Vec<Entry>,
}

impl Store {
    /// The index of `config`: the declared API key var's digest, or every var's row.
    pub(super) fn index_of(&self, config: &BTreeMap<String, String>) -> Result<Index, StoreError> {
        let api_key = self.api_key_var();
        self.with_keyring(|keyring| match api_key {
            Some(var) => Index {
                key_digest: config.get(var).map(|value| keyring.index_digest(var, value)),
                rows: Vec::new(),
            },
            None => Index {
                key_digest: None,
                rows: config
                    .iter()
                    .map(|(var, value)| (var.clone(), keyring.index_digest(var, value)))
                    .collect(),
            },
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
        if let Some(declared) = self.api_key_var().filter(|declared| *declared != var) {
            warn_undeclared(var, declared);
        }
        let digests = self.with_keyring(|keyring| keyring.index_digests(var, value))?;
        let mut candidates = Vec::new();
        for digest in &digests {
            // The digest covers the var's name too, so a column match is a match of this var.
            let rows = sqlx::query(
                "SELECT uuid FROM addon_resources WHERE key_digest = $2 \
                 UNION SELECT uuid FROM addon_config_index WHERE var = $1 AND digest = $2",
            )
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

/// `ApiKey` looks up a var other than the one the add-on declares: only resources indexed before
/// the declaration can be found by it. Said once per process, not on every request.
fn warn_undeclared(var: &str, declared: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            var,
            declared,
            "an API key is looked up by a config var the add-on does not declare as its `api_key`: \
             resources provisioned since the declaration are indexed by the declared var alone"
        );
    });
}

impl Store {
    /// Indexes the live resources that have config but no index: those recorded before the
    /// index existed, and, when no API key var is declared (any more), those indexed by a
    /// declared key alone. Run once as an app starts; the number indexed.
    pub(crate) async fn index_unindexed(&self) -> Result<usize, StoreError> {
        let by_key = if self.api_key_var().is_some() { "key_digest IS NULL AND " } else { "" };
        let sql = format!(
            "SELECT {} FROM addon_resources WHERE state IN ('provisioned', 'pending') AND config <> '{{}}' \
             AND {by_key}NOT EXISTS (SELECT 1 FROM addon_config_index i WHERE i.uuid = addon_resources.uuid)",
            super::COLUMNS
        );
        let rows = sqlx::query(&sql).fetch_all(&self.connections).await?;
        let mut indexed = 0;
        for row in rows {
            let record = super::record::from_row(self, &row)?;
            let index = self.index_of(&record.config)?;
            if index.key_digest.is_none() && index.rows.is_empty() {
                continue;
            }
            let mut lent = self.connections.lend().await?;
            let mut tx = lent.begin().await?;
            replace(&mut tx, &record.uuid, &index.rows).await?;
            if let Some(digest) = &index.key_digest {
                sqlx::query("UPDATE addon_resources SET key_digest = $2 WHERE uuid = $1")
                    .bind(&record.uuid)
                    .bind(digest)
                    .execute(&mut *tx)
                    .await?;
            }
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
