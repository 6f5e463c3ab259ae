//! The vendor's own schema changes: declared in order, each applied once per database, under a
//! lock, and recorded in `addon_vendor_schema` beside the runtime's own `addon_schema`.
//!
//! On PostgreSQL the lock is a transaction-scoped advisory lock, so two instances starting at
//! once queue instead of racing on `CREATE TABLE` (which fails in `pg_type`'s unique index). On
//! SQLite the transaction is `BEGIN IMMEDIATE`: it takes the file's write lock before reading
//! what was applied, so the second process reads after the first committed.
//!
//! Each migration is recorded with a digest of the SQL that ran. A migration already applied
//! whose SQL changed, or that is no longer declared, stops the start-up with an error that
//! names it: the database no longer matches what the code says it is.

use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use super::{Backend, Store};
use crate::base::answer::Error;

/// An arbitrary constant that names the vendor's migration lock on PostgreSQL (the runtime's
/// own is another, so neither waits for the other).
const VENDOR_MIGRATION_LOCK: i64 = 0x6164_646f_6e5f_766d;

/// An add-on's own schema, as an ordered list of migrations (append only: a released migration
/// is never edited or removed; add a new one instead).
///
/// `name` names the set: the migrations of one set are numbered from 1 in the order they are
/// added, and several sets (a library's tables beside the add-on's) can share a database.
///
/// ```no_run
/// # async fn start(store: &addon_runtime::Store) -> Result<(), addon_runtime::Error> {
/// use addon_runtime::Migrations;
///
/// let migrations = Migrations::new("pingly")
///     .add_per_backend(
///         "monitors",
///         "CREATE TABLE pingly_monitors (id INTEGER PRIMARY KEY AUTOINCREMENT, resource_uuid TEXT NOT NULL, url TEXT NOT NULL)",
///         "CREATE TABLE pingly_monitors (id BIGSERIAL PRIMARY KEY, resource_uuid TEXT NOT NULL, url TEXT NOT NULL)",
///     )
///     .add("monitors by resource", "CREATE INDEX pingly_monitors_resource ON pingly_monitors (resource_uuid)");
/// store.migrate(&migrations).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Migrations {
    set: String,
    steps: Vec<Migration>,
}

/// One schema change: its name and its SQL for each backend.
#[derive(Clone, Debug)]
struct Migration {
    name: String,
    sqlite: String,
    postgres: String,
}

impl Migrations {
    /// An empty set named `name` (the add-on's id is a good name).
    pub fn new(name: impl Into<String>) -> Self {
        Self { set: name.into(), steps: Vec::new() }
    }

    /// The next migration, the same SQL on SQLite and PostgreSQL. `sql` may hold several
    /// statements separated by `;`; they run in one transaction with the others.
    pub fn add(self, name: impl Into<String>, sql: impl Into<String>) -> Self {
        let sql = sql.into();
        self.add_per_backend(name, sql.clone(), sql)
    }

    /// The next migration, with SQL for each backend where they differ (an auto-incremented key
    /// is `INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite, `BIGSERIAL PRIMARY KEY` on PostgreSQL).
    pub fn add_per_backend(
        mut self,
        name: impl Into<String>,
        sqlite: impl Into<String>,
        postgres: impl Into<String>,
    ) -> Self {
        self.steps.push(Migration { name: name.into(), sqlite: sqlite.into(), postgres: postgres.into() });
        self
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.set
    }

    /// How many migrations the set declares.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the set declares none.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl Migration {
    fn sql(&self, backend: Backend) -> &str {
        match backend {
            Backend::Sqlite => &self.sqlite,
            Backend::Postgres => &self.postgres,
        }
    }
}

/// A migration as recorded when it was applied.
struct Applied {
    version: i64,
    name: String,
    digest: String,
}

impl Store {
    /// Applies the migrations of `migrations` this database has not had yet, in order, each
    /// once, on the vendor's pool ([`Store::vendor_pool`]), under a migration lock, so any
    /// number of instances can start at once. Call it at start-up, after [`Store::open`] and
    /// before serving (tests that build the app the same way get it too).
    ///
    /// Fails, naming the migration, if one fails, or if one already applied has changed or is
    /// no longer declared; nothing of that call is applied then.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), Error> {
        let set = &migrations.set;
        let failed = |e: sqlx::Error| Error::Store(format!("could not apply the migrations of `{set}`: {e}"));
        let mut tx = self.lock_vendor_schema().await.map_err(failed)?;
        let applied = applied(&mut tx, set).await.map_err(failed)?;
        check_applied(migrations, self.backend(), &applied)?;
        for (index, step) in migrations.steps.iter().enumerate().skip(applied.len()) {
            let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
            let sql = step.sql(self.backend());
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| {
                Error::Store(format!("vendor migration {version} (`{}`) of `{set}` failed: {e}", step.name))
            })?;
            sqlx::query(
                "INSERT INTO addon_vendor_schema (set_name, version, name, digest, applied_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(set)
            .bind(version)
            .bind(&step.name)
            .bind(digest(sql))
            .bind(self.now_ms())
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
            tracing::info!(set = %set, version, name = %step.name, "applied a vendor migration");
        }
        tx.commit().await.map_err(failed)
    }

    /// A transaction on the vendor's pool that holds the migration lock, with the record table
    /// created (after the lock, so two instances do not race on creating it either).
    async fn lock_vendor_schema(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let mut tx = match self.backend() {
            Backend::Sqlite => self.vendor_pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.vendor_pool().begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(VENDOR_MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS addon_vendor_schema (set_name TEXT NOT NULL, version BIGINT NOT NULL, \
             name TEXT NOT NULL, digest TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (set_name, version))",
        )
        .execute(&mut *tx)
        .await?;
        Ok(tx)
    }
}

/// The set's migrations this database has, in order.
async fn applied(tx: &mut Transaction<'static, Any>, set: &str) -> Result<Vec<Applied>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT version, name, digest FROM addon_vendor_schema WHERE set_name = $1 ORDER BY version",
    )
    .bind(set)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Applied {
                version: row.try_get("version")?,
                name: row.try_get("name")?,
                digest: row.try_get("digest")?,
            })
        })
        .collect()
}

/// Every applied migration must still be declared, at its place, with the SQL that ran.
fn check_applied(migrations: &Migrations, backend: Backend, applied: &[Applied]) -> Result<(), Error> {
    let set = &migrations.set;
    for (index, done) in applied.iter().enumerate() {
        let declared =
            migrations.steps.get(index).filter(|_| done.version == i64::try_from(index + 1).unwrap_or(0));
        let Some(step) = declared else {
            return Err(Error::Store(format!(
                "this database has vendor migration {} (`{}`) of `{set}` applied, but the add-on declares \
                 only {} migration(s): an applied migration must stay in the list (is this build older \
                 than the database?)",
                done.version,
                done.name,
                migrations.steps.len()
            )));
        };
        if digest(step.sql(backend)) != done.digest {
            return Err(Error::Store(format!(
                "vendor migration {} (`{}`) of `{set}` was changed after it was applied to this database: \
                 its SQL is not what ran. Put the applied SQL back and add the change as a new migration",
                done.version, done.name
            )));
        }
    }
    Ok(())
}

/// SHA-256 of the SQL as run, in hex.
fn digest(sql: &str) -> String {
    Sha256::digest(sql.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied_as(migrations: &Migrations) -> Vec<Applied> {
        migrations
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| Applied {
                version: i as i64 + 1,
                name: step.name.clone(),
                digest: digest(step.sql(Backend::Sqlite)),
            })
            .collect()
    }

    #[test]
    fn an_appended_migration_is_accepted_and_an_edited_or_removed_one_is_not() {
        let one = Migrations::new("t").add("a", "CREATE TABLE t_a (x TEXT)");
        let applied = applied_as(&one);
        assert!(check_applied(&one.clone().add("b", "CREATE TABLE t_b (x TEXT)"), Backend::Sqlite, &applied)
            .is_ok());

        let edited = Migrations::new("t").add("a", "CREATE TABLE t_a (x BIGINT)");
        let message = check_applied(&edited, Backend::Sqlite, &applied).unwrap_err().to_string();
        assert!(message.contains("migration 1 (`a`) of `t` was changed"), "{message}");

        let removed = Migrations::new("t");
        let message = check_applied(&removed, Backend::Sqlite, &applied).unwrap_err().to_string();
        assert!(message.contains("declares only 0 migration(s)"), "{message}");
    }

    #[test]
    fn only_the_backend_s_own_sql_counts() {
        let both = Migrations::new("t").add_per_backend("a", "SQLITE", "POSTGRES");
        let applied = applied_as(&both);
        let postgres_edited = Migrations::new("t").add_per_backend("a", "SQLITE", "POSTGRES, edited");
        assert!(check_applied(&postgres_edited, Backend::Sqlite, &applied).is_ok());
    }
}
