//! The two connection pools on the registry's database: the registry's own, and the vendor's
//! (for its own tables). Separate pools mean a vendor's long searches or floods of writes can
//! hold only the vendor's connections; a provision always finds one of its own.
//!
//! On SQLite, the file has one writer at a time whichever pool it comes from, so both pools use
//! WAL (readers never wait for writers), and a writer that finds the file locked waits for it
//! (`busy_timeout`) instead of failing at once. What keeps the registry's wait short is that
//! writers hold the lock briefly: the runtime's transactions are a few statements, and vendors
//! should batch (the example writes a whole drain frame in one statement per 500 lines).

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use super::Backend;
use crate::base::answer::Error;
use crate::base::settings::{redact_url, DbConnections};

/// Connections the registry gets when the settings do not say: SQLite has one writer anyway, so
/// more would only queue inside the file lock; PostgreSQL's default server allows 100 in all.
const SQLITE_CONNECTIONS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 10;
/// How long a query waits for a pool's connection before its request answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a SQLite writer waits for the file's lock before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;
/// Each SQLite connection's page cache, in KiB (SQLite's default is 2 MiB per connection, up to
/// 16 MiB across both pools): the registry's hot rows are a few pages, and the file's pages stay
/// in the kernel's cache anyway.
const SQLITE_CACHE_KIB: u32 = 512;
/// The WAL's size, in pages, past which a commit checkpoints on its own (SQLite's default is
/// 1,000): the registry's writer checkpoints in the background long before (every 10 ms while
/// it commits), so this is the backstop, for writes made outside the writer.
const SQLITE_BACKSTOP_CHECKPOINT_PAGES: u32 = 4_000;

/// How long a PostgreSQL connection may sit idle before it is pinged on its way out of the pool.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Which pool: named in the error when it cannot be opened.
#[derive(Clone, Copy, Debug)]
pub(super) enum Purpose {
    Registry,
    Vendor,
}

/// Opens one pool of `purpose` on `url` (already normalised by `Store::open_with`).
/// How long a PostgreSQL connection may sit unused before it is pinged (see above); `None` on
/// SQLite.
pub(super) fn ping_after(backend: Backend) -> Option<Duration> {
    (backend == Backend::Postgres).then_some(PING_AFTER_IDLE)
}

pub(super) async fn connect(
    url: &str,
    backend: Backend,
    sizes: DbConnections,
    purpose: Purpose,
) -> Result<AnyPool, Error> {
    let size = match purpose {
        Purpose::Registry => sizes.registry,
        Purpose::Vendor => sizes.vendor,
    };
    let default = match backend {
        Backend::Sqlite => SQLITE_CONNECTIONS,
        Backend::Postgres => POSTGRES_CONNECTIONS,
    };
    AnyPoolOptions::new()
        .max_connections(size.unwrap_or(default).max(1))
        // A database that does not answer turns into a quick 503, not a hung request.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // sqlx pings every connection it hands out, a round trip per query (on SQLite, a
        // hand-off to the connection's thread and back). A connection used a moment ago is
        // alive; one that sat idle may have been cut (a database restart, a proxy's idle
        // timeout): only that one is pinged, and replaced if the ping fails. SQLite's
        // connections are in-process and cannot be cut.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if backend == Backend::Postgres && meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // Writers queue for the file lock instead of failing at once.
                    let pragma = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                    let pragma = format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}");
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                    // The registry's writer checkpoints beside its commits
                    // (`group/checkpoints.rs`); SQLite's own, in a commit, only past this size.
                    let pragma = format!("PRAGMA wal_autocheckpoint = {SQLITE_BACKSTOP_CHECKPOINT_PAGES}");
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                    if matches!(purpose, Purpose::Vendor) {
                        // In WAL mode, NORMAL skips the fsync inside each commit (the file
                        // cannot be corrupted; a power cut may lose the last commits): the
                        // vendor's commits hold the write lock for less time. The registry
                        // keeps FULL: an answer given to Heroku must survive.
                        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
                    }
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .map_err(|e| {
            Error::Store(format!("could not open the {} pool on {}: {e}", purpose.name(), redact_url(url)))
        })
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Registry => "registry's",
            Purpose::Vendor => "vendor's",
        }
    }
}
