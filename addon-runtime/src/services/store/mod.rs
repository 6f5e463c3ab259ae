//! The durable registry of resources: one row per Heroku `uuid` (unique), with the answer
//! recorded for replays, the plan, the config and the resource's state.
//!
//! One code path for both databases, through sqlx's `Any` driver: SQLite (a file, the embedded
//! default) and PostgreSQL (when several instances share one registry). Every statement is
//! plain SQL both understand.
//!
//! Concurrency is coordinated in the database, so it holds across processes: a provision first
//! *claims* its uuid by inserting a `provisioning` row with a lease; plan changes and
//! deprovisions take the resource's lease with a conditional update. Whoever holds the lease
//! calls the vendor; everyone else waits for it to end. A lease left by a crashed process
//! expires, so the work can be taken over.
//!
//! Provisions' claims and answers are committed many at a time by one writer task (`group.rs`):
//! on SQLite, where every commit is an fsync under the file's one write lock, in one
//! transaction; on PostgreSQL, in one statement for the claims and one for the answers. Each
//! caller is answered after the commit that holds its write.

mod config_index;
mod connections;
mod glance;
mod group;
mod jobs;
mod lease;
mod migrations;
mod opened;
mod osb;
mod pool;
mod record;
mod schema;
mod sessions;
mod suspension;
mod tokens;

pub(crate) use jobs::{FollowUp, Job, JobKind};

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use self::connections::Connections;

pub(crate) use glance::ProvisionAnswer;
pub use lease::Lease;
pub use migrations::Migrations;
pub(crate) use osb::{JobStanding, OsbBinding, OsbInstance};
pub use record::{ResourceRecord, ResourceState};
pub(crate) use sessions::Standing;

use crate::base::answer::{AddonError, Error};
use crate::base::cipher::{field, Binding, Keyring};
use crate::base::clock::{self, millis, Clock, SharedClock};
use crate::base::protocol::ProvisionRequest;
use crate::base::settings::{redact_url, DbConnections, Settings};

/// Which database a [`Store`] speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The registry, shared by every request (and, on PostgreSQL, by every instance).
///
/// Vendors read it too: [`Store::resource`] and [`Store::resource_by_drain_token`] give the
/// runtime's record of a resource, so most add-ons need no table of their own for it.
#[derive(Clone)]
pub struct Store {
    /// The runtime's own queries only, so the vendor's work can never take its connections.
    connections: Connections,
    /// The vendor's own tables: [`Store::vendor_pool`].
    vendor_pool: AnyPool,
    backend: Backend,
    /// Stamps rows, leases and expiries: the app's one clock.
    clock: SharedClock,
    /// Seals config and answers before they are written, opens them when read. Shared by every
    /// clone, so a clone taken before the app installed its keys reads them too.
    keyring: Arc<RwLock<Option<Keyring>>>,
    /// The config var the add-on declares as its API key (`config_index.rs`), installed by the
    /// app with its keys.
    api_key: Arc<RwLock<Option<&'static str>>>,
    /// Recorded answers already opened, for provisions replayed again (`opened.rs`).
    opened: Arc<opened::Opened>,
    /// Commits provisions' claims and answers together (group commit).
    writer: Arc<group::GroupWriter>,
}

/// A database operation failed (unreachable, timed out, refused). Requests answer 503 and the
/// pool reconnects by itself when the database is back.
#[derive(Debug)]
pub struct StoreError(sqlx::Error);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the add-on registry's database failed: {}", self.0)
    }
}

/// The registry's database failed: a retryable 503, with the cause logged.
impl From<StoreError> for AddonError {
    fn from(error: StoreError) -> Self {
        AddonError::registry_unavailable(error)
    }
}

// Deliberately not `std::error::Error`: that would make `?` turn it into a 500 through
// `AddonError`'s blanket conversion, where a database outage deserves a retryable 503.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError(error)
    }
}

/// The outcome of trying to claim a uuid for provisioning.
pub(crate) enum Claim {
    /// This request holds the claim: it calls the vendor, then completes or abandons it.
    Owned,
    /// The uuid is already known: replay, refuse or wait, depending on its state.
    Existing(ProvisionAnswer),
    /// This request holds the claim, but its drain token names another resource that is live or
    /// on its way to it: it abandons the claim.
    DrainTokenTaken,
}

const COLUMNS: &str =
    "uuid, id, plan, region, name, options, callback_url, log_drain_token, state, config, created_at, updated_at, \
     marketplace, suspended_at";

impl Store {
    /// Connects to `url` (`sqlite://path.db` or `postgres://...`), creating a SQLite file if
    /// needed, and brings the schema up to date; both pools at their default sizes.
    pub async fn open(url: &str) -> Result<Store, Error> {
        Self::open_sized(url, DbConnections { registry: None, vendor: None }).await
    }

    /// [`Store::open`] with the pool sizes `settings` give (`ADDON_DB_CONNECTIONS`,
    /// `ADDON_VENDOR_DB_CONNECTIONS`).
    pub async fn open_with(url: &str, settings: &Settings) -> Result<Store, Error> {
        Self::open_sized(url, settings.db_connections()).await
    }

    async fn open_sized(url: &str, sizes: DbConnections) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::Config(format!(
                "DATABASE_URL must start with `sqlite:` or `postgres://`, not `{}`",
                redact_url(url)
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let pool = pool::connect(&url, backend, sizes, pool::Purpose::Registry).await?;
        if backend == Backend::Sqlite {
            // Readers no longer wait for writers; survives restarts, as it is kept in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|e| Error::Store(format!("could not enable WAL: {e}")))?;
        }
        let vendor_pool = pool::connect(&url, backend, sizes, pool::Purpose::Vendor).await?;
        let writer = Arc::new(group::GroupWriter::new(backend));
        let connections = Connections::new(pool, pool::ping_after(backend));
        let store = Store {
            connections,
            vendor_pool,
            backend,
            clock: clock::system(),
            keyring: Arc::default(),
            api_key: Arc::default(),
            opened: Arc::default(),
            writer,
        };
        schema::migrate(&store).await.map_err(|e| Error::Store(format!("could not migrate: {e}")))?;
        Ok(store)
    }

    /// The same registry, reading time from `clock` for its stamps, leases and expiries (the
    /// app passes its own clock here; tests move a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The keys that seal what the registry keeps secret (the app installs them from its settings).
    pub(crate) fn use_keyring(&self, keyring: Keyring) {
        *self.keyring.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(keyring);
        self.opened.clear();
    }

    /// Indexes `var` alone, in the resource row, as the API key (`None`: every var, in the index
    /// table). The app installs its declaration's `api_key` here.
    pub(crate) fn use_api_key(&self, var: Option<&'static str>) {
        *self.api_key.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = var;
    }

    fn api_key_var(&self) -> Option<&'static str> {
        *self.api_key.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `text` sealed for `field` of resource `uuid`.
    fn seal(&self, uuid: &str, field: &'static str, text: &str) -> Result<String, StoreError> {
        self.with_keyring(|keyring| keyring.seal(text, Binding::new(uuid, field)))
    }

    /// `work` with the installed keys. Only an app writes (and looks secrets up), and it installs
    /// its keys first; without them nothing secret is written unsealed or undigested.
    fn with_keyring<T>(&self, work: impl FnOnce(&Keyring) -> T) -> Result<T, StoreError> {
        let keyring = self.keyring.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let keyring = keyring.as_ref().ok_or_else(|| {
            StoreError(sqlx::Error::Configuration(
                "the registry has no sealing keys installed (use the Store of an App)".into(),
            ))
        })?;
        Ok(work(keyring))
    }

    /// A column's text as written: opened if sealed; text from before sealing as it is.
    pub(super) fn open_sealed(
        &self,
        uuid: &str,
        field: &'static str,
        stored: &str,
    ) -> Result<String, String> {
        if !Keyring::is_sealed(stored) {
            return Ok(stored.to_owned());
        }
        let keyring = self.keyring.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(keyring) = keyring.as_ref() else {
            return Err("the registry was opened without keys (read it through the app's Store)".to_owned());
        };
        keyring.open(stored, Binding::new(uuid, field)).map_err(|why| why.to_string())
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The registry's own connection pool: for reading the runtime's tables (`addon_*`) in
    /// tests and tools. Keep your own tables' work on [`Store::vendor_pool`]: the runtime keeps
    /// all but one of this pool's connections for its own statements (`ADDON_DB_CONNECTIONS`,
    /// 4 on SQLite and 10 on PostgreSQL by default), and queries here share the one left.
    pub fn pool(&self) -> &AnyPool {
        self.connections.pool()
    }

    /// A pool of the vendor's own on the registry's database, for the add-on's own tables (the
    /// example keeps its log lines this way): its connections are not the registry's, so a
    /// vendor's slow search or flood of writes never leaves a provision waiting for one. Its
    /// size is `ADDON_VENDOR_DB_CONNECTIONS` (default 4 on SQLite, 10 on PostgreSQL).
    ///
    /// Prefix your tables with your add-on's name: the runtime's own tables all start with
    /// `addon_`. Statements must suit [`Store::backend`]; sqlx's `Any` driver takes `$1`-style
    /// parameters on both. On SQLite the file has one writer at a time, whichever pool: keep
    /// write transactions short (batch rows into few statements) so the registry's writes wait
    /// milliseconds, not seconds. A vendor that wants another database altogether opens its own
    /// sqlx pool.
    pub fn vendor_pool(&self) -> &AnyPool {
        &self.vendor_pool
    }

    /// The resource with this uuid, or with this id if the vendor chose its own.
    pub async fn resource(&self, uuid_or_id: &str) -> Result<Option<ResourceRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM addon_resources {}", glance::BY_UUID_OR_ID);
        let row = sqlx::query(&sql).bind(uuid_or_id).fetch_optional(&self.connections).await?;
        Ok(row.map(|row| record::from_row(self, &row)).transpose()?)
    }

    /// The live resource whose log drain Heroku identifies with this token.
    pub async fn resource_by_drain_token(&self, token: &str) -> Result<Option<ResourceRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM addon_resources WHERE log_drain_token = $1 AND state = 'provisioned' LIMIT 1"
        );
        let row = sqlx::query(&sql).bind(token).fetch_optional(&self.connections).await?;
        Ok(row.map(|row| record::from_row(self, &row)).transpose()?)
    }

    /// Inserts a `provisioning` row holding a lease, unless the uuid is known. An expired claim
    /// (its process died mid-provision) is taken over. A claim whose drain token another live
    /// resource holds is [`Claim::DrainTokenTaken`]: the row is the caller's to abandon.
    pub(crate) async fn claim_provision(
        &self,
        request: &ProvisionRequest,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let now = self.now_ms();
        let write = group::ClaimWrite {
            uuid: request.uuid.clone(),
            plan: request.plan.as_str().to_owned(),
            region: request.region.clone(),
            name: request.name.clone(),
            options: serde_json::to_string(&request.options).unwrap_or_else(|_| "{}".to_owned()),
            callback_url: request.callback_url.clone(),
            log_drain_token: request.log_drain_token.clone(),
            marketplace: request.marketplace.as_str(),
            lease_until: now + millis(lease),
            now,
        };
        match self.write(group::Write::Claim(write)).await? {
            Some(group::Claimed::Inserted) => return Ok(Claim::Owned),
            Some(group::Claimed::TokenTaken) => return Ok(Claim::DrainTokenTaken),
            Some(group::Claimed::TakenOver) => {
                tracing::warn!(uuid = %request.uuid, "took over a provision whose previous attempt never finished");
                return Ok(Claim::Owned);
            }
            _ => {}
        }
        match self.provision_answer(&request.uuid).await? {
            Some(answer) => Ok(Claim::Existing(answer)),
            // The claim was abandoned between the two statements: claim again.
            None => Box::pin(self.claim_provision(request, lease)).await,
        }
    }

    /// Commits a provision's write with whatever others are waiting; returns once it is durable.
    async fn write(&self, write: group::Write) -> Result<Option<group::Claimed>, StoreError> {
        self.writer.submit(&self.connections, write).await
    }

    /// Records the vendor's answer and makes the resource live (200) or pending (202), with the
    /// job that finishes it (or exchanges its grant), in one transaction.
    pub(crate) async fn complete_provision(
        &self,
        uuid: &str,
        id: &str,
        response: (u16, &str),
        config: &BTreeMap<String, String>,
        follow_up: Option<FollowUp>,
    ) -> Result<(), StoreError> {
        let state = if response.0 == 202 { ResourceState::Pending } else { ResourceState::Provisioned };
        let write = group::AnswerWrite {
            uuid: uuid.to_owned(),
            id: id.to_owned(),
            state: state.as_str(),
            status: i64::from(response.0),
            sealed_response: self.seal(uuid, field::RESPONSE, response.1)?,
            sealed_config: self.sealed_config(uuid, config)?,
            index: self.index_of(config)?,
            follow_up,
            now: self.now_ms(),
        };
        self.write(group::Write::Answer(write)).await?;
        Ok(())
    }

    /// A pending resource whose job has set its config is live, with the config Heroku was
    /// given; false if it was deprovisioned meanwhile. (It may already be live: an earlier
    /// attempt got this far and then failed to tell Heroku.)
    pub(crate) async fn finish_pending(
        &self,
        uuid: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        let index = self.index_of(config)?;
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        let result = sqlx::query(
            "UPDATE addon_resources SET state = 'provisioned', config = $2, updated_at = $3, key_digest = $4 \
             WHERE uuid = $1 AND state IN ('pending', 'provisioned')",
        )
        .bind(uuid)
        .bind(self.sealed_config(uuid, config)?)
        .bind(self.now_ms())
        .bind(index.key_digest.as_deref())
        .execute(&mut *tx)
        .await?;
        let live = result.rows_affected() == 1;
        if live {
            config_index::replace(&mut tx, uuid, &index.rows).await?;
        }
        tx.commit().await?;
        lent.done();
        Ok(live)
    }

    /// Adds config a background plan change set to a live resource's record. It takes the
    /// resource's lease for the read and the write, so a plan change request running at the same
    /// moment loses nothing; false if the lease is held (or the resource is no longer live).
    pub(crate) async fn merge_config(
        &self,
        uuid: &str,
        config: &BTreeMap<String, String>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        if !self.acquire(uuid, ResourceState::Provisioned, lease).await? {
            return Ok(false);
        }
        let mut merged = self.resource_by_uuid(uuid).await?.map(|record| record.config).unwrap_or_default();
        merged.extend(config.iter().map(|(var, value)| (var.clone(), value.clone())));
        let index = self.index_of(&merged)?;
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        sqlx::query(
            "UPDATE addon_resources SET config = $2, lease_until = NULL, updated_at = $3, key_digest = $4 \
             WHERE uuid = $1",
        )
        .bind(uuid)
        .bind(self.sealed_config(uuid, &merged)?)
        .bind(self.now_ms())
        .bind(index.key_digest.as_deref())
        .execute(&mut *tx)
        .await?;
        config_index::replace(&mut tx, uuid, &index.rows).await?;
        tx.commit().await?;
        lent.done();
        Ok(true)
    }

    /// Forgets a claim whose provision failed, so Heroku's retry starts afresh.
    pub(crate) async fn abandon_provision(&self, uuid: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM addon_resources WHERE uuid = $1 AND state = 'provisioning'")
            .bind(uuid)
            .execute(&self.connections)
            .await?;
        Ok(())
    }

    /// Takes the lease of a resource in `state`; false if another operation holds it.
    pub(crate) async fn acquire(
        &self,
        uuid: &str,
        state: ResourceState,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.now_ms();
        let result = sqlx::query(
            "UPDATE addon_resources SET lease_until = $2 \
             WHERE uuid = $1 AND state = $4 AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(uuid)
        .bind(now + millis(lease))
        .bind(now)
        .bind(state.as_str())
        .execute(&self.connections)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub(crate) async fn release(&self, uuid: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE addon_resources SET lease_until = NULL WHERE uuid = $1")
            .bind(uuid)
            .execute(&self.connections)
            .await?;
        Ok(())
    }

    /// The new plan and config after a plan change, with the job that finishes it if it goes on
    /// in the background; releases the lease. One transaction.
    pub(crate) async fn change_plan(
        &self,
        uuid: &str,
        plan: &str,
        config: &BTreeMap<String, String>,
        follow_up: Option<FollowUp>,
    ) -> Result<(), StoreError> {
        let index = self.index_of(config)?;
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        if let Some(follow_up) = &follow_up {
            jobs::add(&mut tx, uuid, follow_up).await?;
        }
        config_index::replace(&mut tx, uuid, &index.rows).await?;
        sqlx::query(
            "UPDATE addon_resources SET plan = $2, config = $3, lease_until = NULL, updated_at = $4, \
             key_digest = $5 WHERE uuid = $1",
        )
        .bind(uuid)
        .bind(plan)
        .bind(self.sealed_config(uuid, config)?)
        .bind(self.now_ms())
        .bind(index.key_digest.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        lent.done();
        Ok(())
    }

    /// The resource is gone for good: its jobs still to run are cancelled, the job that finishes
    /// the deprovision is added if there is one, and the lease is released. One transaction.
    /// Its secrets are scrubbed (config and its index, recorded answer, options, drain token): a
    /// 410 needs only the state, the plan and the stamps.
    pub(crate) async fn mark_deprovisioned(
        &self,
        uuid: &str,
        follow_up: Option<FollowUp>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        let mut lent = self.connections.lend().await?;
        let mut tx = lent.begin().await?;
        jobs::cancel(&mut tx, uuid, now).await?;
        config_index::remove(&mut tx, uuid).await?;
        if let Some(follow_up) = &follow_up {
            jobs::add(&mut tx, uuid, follow_up).await?;
        }
        sqlx::query(
            "UPDATE addon_resources SET state = 'deprovisioned', lease_until = NULL, updated_at = $2, \
             config = '{}', response = NULL, response_status = NULL, options = '{}', log_drain_token = NULL, \
             key_digest = NULL WHERE uuid = $1",
        )
        .bind(uuid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        lent.done();
        // Scrubbed from memory too, where this process kept it for replays (`opened.rs`).
        self.opened.forget(uuid);
        Ok(())
    }

    async fn resource_by_uuid(&self, uuid: &str) -> Result<Option<ResourceRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM addon_resources WHERE uuid = $1");
        let row: Option<AnyRow> = sqlx::query(&sql).bind(uuid).fetch_optional(&self.connections).await?;
        Ok(row.map(|row| record::from_row(self, &row)).transpose()?)
    }

    /// Closes both pools' connections.
    pub async fn close(&self) {
        self.vendor_pool.close().await;
        self.connections.close().await;
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// A config as stored: a JSON object of strings (which cannot fail to serialize).
fn config_json(config: &BTreeMap<String, String>) -> String {
    serde_json::to_string(config).unwrap_or_else(|_| "{}".to_owned())
}

impl Store {
    /// A config as stored: its JSON, sealed for the resource.
    fn sealed_config(&self, uuid: &str, config: &BTreeMap<String, String>) -> Result<String, StoreError> {
        self.seal(uuid, field::CONFIG, &config_json(config))
    }
}

/// Reads a column that holds JSON text.
fn json_map(row: &AnyRow, column: &str) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
}
