//! The schema, as numbered migrations embedded in the binary and applied at start-up.
//!
//! Each migration runs in a transaction with its version recorded; on PostgreSQL an advisory
//! lock keeps two instances starting at once from applying the same one twice.

use sqlx::Row;

use super::{Backend, Store};

/// Append only: a released migration is never edited.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE IF NOT EXISTS addon_resources (
        uuid TEXT PRIMARY KEY,
        id TEXT UNIQUE,
        plan TEXT NOT NULL,
        region TEXT,
        name TEXT,
        options TEXT NOT NULL DEFAULT '{}',
        callback_url TEXT,
        log_drain_token TEXT,
        state TEXT NOT NULL,
        response TEXT,
        config TEXT NOT NULL DEFAULT '{}',
        lease_until BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS addon_resources_log_drain_token ON addon_resources (log_drain_token)",
    ),
    (
        2,
        "ALTER TABLE addon_resources ADD COLUMN response_status BIGINT;
    CREATE TABLE IF NOT EXISTS addon_jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        uuid TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        run_at BIGINT NOT NULL,
        lease_until BIGINT,
        deadline BIGINT NOT NULL,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS addon_jobs_due ON addon_jobs (state, run_at);
    CREATE TABLE IF NOT EXISTS addon_tokens (
        uuid TEXT PRIMARY KEY,
        grant_code TEXT,
        access_token TEXT,
        refresh_token TEXT,
        expires_at BIGINT,
        updated_at BIGINT NOT NULL
    )",
    ),
    // Sessions signed out before their cookie expired (unix seconds): a row ends the session on
    // every instance.
    (
        3,
        "CREATE TABLE IF NOT EXISTS addon_ended_sessions (
        sid TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS addon_ended_sessions_expires_at ON addon_ended_sessions (expires_at)",
    ),
    // Deprovisioned resources keep only what a 410 needs: their config, recorded answer,
    // options and drain token are scrubbed (deprovisioning does so from now on).
    (
        4,
        "UPDATE addon_resources SET config = '{}', response = NULL, response_status = NULL, options = '{}', \
        log_drain_token = NULL WHERE state = 'deprovisioned'",
    ),
    // SSO forms already used, by a digest of their token, until they go stale (unix seconds):
    // with `ADDON_SSO_SINGLE_USE`, a row refuses the same form on every instance.
    (
        5,
        "CREATE TABLE IF NOT EXISTS addon_seen_logins (
        proof TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS addon_seen_logins_expires_at ON addon_seen_logins (expires_at)",
    ),
    // Config values by a keyed digest (never the value): finds the live resource an API key
    // belongs to. Rows go with their resource's config, and at deprovision.
    (
        6,
        "CREATE TABLE IF NOT EXISTS addon_config_index (
        var TEXT NOT NULL,
        digest TEXT NOT NULL,
        uuid TEXT NOT NULL,
        PRIMARY KEY (var, digest, uuid)
    );
    CREATE INDEX IF NOT EXISTS addon_config_index_uuid ON addon_config_index (uuid)",
    ),
    // The marketplace each resource was sold through (`Marketplace::as_str`): every resource
    // before it was Heroku's.
    (7, "ALTER TABLE addon_resources ADD COLUMN marketplace TEXT NOT NULL DEFAULT 'heroku'"),
    // The Open Service Broker adapter's records: each instance's attributes as provisioned
    // (parameters sealed), and each binding with its sealed credentials, so replays are answered
    // 200 identical / 409 different and a repeated bind gets the same credentials.
    (
        8,
        "CREATE TABLE IF NOT EXISTS addon_osb_instances (
        uuid TEXT PRIMARY KEY,
        service_id TEXT NOT NULL,
        plan_id TEXT NOT NULL,
        parameters TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS addon_osb_bindings (
        binding_id TEXT PRIMARY KEY,
        uuid TEXT NOT NULL,
        service_id TEXT NOT NULL,
        plan_id TEXT NOT NULL,
        attributes TEXT NOT NULL,
        credentials TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS addon_osb_bindings_uuid ON addon_osb_bindings (uuid)",
    ),
    // Suspension beside the state machine (a suspended resource keeps its state and data), and a
    // marketplace's report that its own deprovision failed (Unix milliseconds).
    (
        9,
        "ALTER TABLE addon_resources ADD COLUMN suspended_at BIGINT;
    ALTER TABLE addon_resources ADD COLUMN deprovision_failed_at BIGINT",
    ),
    // The keyed digest of the config var the add-on declares as its API key (`api_key`): found
    // in the resource's own row, with one index entry, instead of a row per var in
    // `addon_config_index` (`config_index.rs`). Only rows that have one are indexed.
    (
        10,
        "ALTER TABLE addon_resources ADD COLUMN key_digest TEXT;
    CREATE INDEX IF NOT EXISTS addon_resources_key_digest ON addon_resources (key_digest) \
    WHERE key_digest IS NOT NULL",
    ),
];

/// An arbitrary constant that names this crate's migration lock on PostgreSQL.
const MIGRATION_LOCK: i64 = 0x6164_646f_6e5f_7273;

pub(super) async fn migrate(store: &Store) -> Result<(), sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS addon_schema (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM addon_schema")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()?;
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO addon_schema (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(store.now_ms())
            .execute(&mut *tx)
            .await?;
        tracing::info!(version, "applied a registry migration");
    }
    tx.commit().await
}
