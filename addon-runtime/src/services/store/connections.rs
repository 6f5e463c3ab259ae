//! The registry's connections, handed from one statement to the next without going back to
//! sqlx's pool in between.
//!
//! sqlx tests every connection given back to its pool with a ping before another task may take
//! it: on SQLite a hand-off to the connection's thread and back, on PostgreSQL a round trip to
//! the server, and a task spawned to do it, for every statement. That was half the context
//! switches of a sign-in and more CPU than any other step of it. Here a connection whose work
//! finished is kept, and the next statement takes it at once.
//!
//! What sqlx's test was for still holds:
//! - **A connection whose work did not finish** (an error, or a request dropped mid-statement
//!   or mid-transaction) is never kept: it goes back to sqlx, whose ping rolls back what was
//!   left open or closes the connection if it is broken.
//! - **A connection idle for a while** on PostgreSQL may have been cut (a restart, a proxy's
//!   idle timeout): it is pinged before use, as the pool's own connections are
//!   (`pool::PING_AFTER_IDLE`), and replaced if the ping fails.
//! - **Everyone else still finds a connection**: the runtime uses at most one fewer than the
//!   pool's size at once, so [`Store::pool`](super::Store::pool) (tests and tools) is never left
//!   waiting on connections kept idle here.
//! - **Waiting is fair**: a statement that finds every connection busy waits its turn (first
//!   come, first served), and the next connection given back goes to it. A waiter inside sqlx's
//!   pool would see only connections given back to sqlx, never the ones kept here.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::stream::{BoxStream, Stream};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Describe, Either, Error, Execute, Executor};
use tokio::sync::{Semaphore, SemaphorePermit};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The registry's pool and the connections kept from it. Clones share both.
#[derive(Clone)]
pub(crate) struct Connections {
    shared: Arc<Shared>,
}

struct Shared {
    pool: AnyPool,
    /// One per connection the runtime may use at once; each lent connection holds one.
    turns: Semaphore,
    /// Most recently used last: taken from the end, so the warmest is used first and the
    /// others may age past `ping_after` only when the load falls.
    kept: Mutex<Vec<Kept>>,
    /// `None` on SQLite, whose connections are in the process and cannot be cut.
    ping_after: Option<Duration>,
}

struct Kept {
    connection: PoolConnection<Any>,
    since: Instant,
}

impl Connections {
    pub(crate) fn new(pool: AnyPool, ping_after: Option<Duration>) -> Self {
        let size = pool.options().get_max_connections() as usize;
        // One is left for `Store::pool`; a pool of one is shared with it, as any pool is.
        let turns = Semaphore::new(size.saturating_sub(1).max(1));
        Self { shared: Arc::new(Shared { pool, turns, kept: Mutex::default(), ping_after }) }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.shared.pool
    }

    /// A connection for one piece of work: a kept one if there is one, else the pool's. Give it
    /// back with [`Lent::done`] when the work succeeded; dropped, it goes back to the pool.
    pub(crate) async fn lend(&self) -> Result<Lent<'_>, Error> {
        let turn = self.shared.turns.acquire().await.map_err(|_| Error::PoolClosed)?;
        loop {
            let Some(Kept { mut connection, since }) = self.kept().pop() else {
                let connection = self.shared.pool.acquire().await?;
                return Ok(Lent { connection: Some(connection), home: &self.shared, _turn: turn });
            };
            if self.shared.ping_after.is_some_and(|after| since.elapsed() >= after)
                && connection.ping().await.is_err()
            {
                // Cut while it waited: closed rather than tested again by the pool.
                connection.close_on_drop();
                continue;
            }
            return Ok(Lent { connection: Some(connection), home: &self.shared, _turn: turn });
        }
    }

    /// Lets the pool close: what is kept goes back to it first.
    pub(crate) async fn close(&self) {
        self.shared.turns.close();
        let kept = std::mem::take(&mut *self.kept());
        drop(kept);
        self.shared.pool.close().await;
    }

    fn kept(&self) -> MutexGuard<'_, Vec<Kept>> {
        self.shared.kept()
    }
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("kept", &self.kept().len())
            .field("free_turns", &self.shared.turns.available_permits())
            .finish()
    }
}

impl Shared {
    fn kept(&self) -> MutexGuard<'_, Vec<Kept>> {
        // The list is consistent between any two statements: a panic elsewhere cannot break it.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A connection lent for one piece of work (see [`Connections::lend`]).
pub(crate) struct Lent<'a> {
    connection: Option<PoolConnection<Any>>,
    home: &'a Shared,
    /// Given back after the connection (fields drop in order): the next waiter finds it kept.
    _turn: SemaphorePermit<'a>,
}

impl Lent<'_> {
    /// The work succeeded and left nothing open: the connection is kept for the next.
    pub(crate) fn done(mut self) {
        let Some(connection) = self.connection.take() else { return };
        if self.home.pool.is_closed() {
            return;
        }
        // As many are kept as may be lent at once: a waiter always finds one here.
        self.home.kept().push(Kept { connection, since: Instant::now() });
    }

    /// A transaction on this connection. Commit it, then [`Lent::done`]; dropped uncommitted, it
    /// rolls back when the pool tests the connection.
    pub(crate) async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Any>, Error> {
        Connection::begin(&mut **self).await
    }
}

impl Deref for Lent<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.connection.as_ref().expect("a lent connection is there until it is given back")
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.connection.as_mut().expect("a lent connection is there until it is given back")
    }
}

/// One statement on a lent connection, so queries run on `&store.connections` as on a pool.
impl<'c> Executor<'c> for &'c Connections {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        // The registry's statements return a few rows: read them all, then give the connection
        // back, rather than hold it while the caller reads.
        Box::pin(Rows::Pending(Box::pin(async move {
            let mut lent = self.lend().await?;
            let mut stream = lent.fetch_many(query);
            let mut items = Vec::new();
            while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
                items.push(item?);
            }
            drop(stream);
            lent.done();
            Ok(items)
        })))
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            let row = lent.fetch_optional(query).await?;
            lent.done();
            Ok(row)
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            let statement = lent.prepare_with(sql, parameters).await?;
            lent.done();
            Ok(statement)
        })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut lent = self.lend().await?;
            let described = lent.describe(sql).await?;
            lent.done();
            Ok(described)
        })
    }
}

/// The rows of `fetch_many` on `&Connections`: all read first, then handed out one by one.
enum Rows<'e> {
    Pending(BoxFuture<'e, Result<Vec<Either<AnyQueryResult, AnyRow>>, Error>>),
    Ready(std::vec::IntoIter<Either<AnyQueryResult, AnyRow>>),
}

impl Stream for Rows<'_> {
    type Item = Result<Either<AnyQueryResult, AnyRow>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut *self {
                Rows::Pending(reading) => match reading.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(items)) => *self = Rows::Ready(items.into_iter()),
                    Poll::Ready(Err(error)) => {
                        *self = Rows::Ready(Vec::new().into_iter());
                        return Poll::Ready(Some(Err(error)));
                    }
                },
                Rows::Ready(items) => return Poll::Ready(items.next().map(Ok)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::Row;

    use super::*;
    use crate::base::settings::DbConnections;
    use crate::services::store::pool::{self, Purpose};
    use crate::services::store::Backend;

    const SIZE: u32 = 3;

    /// A registry pool of [`SIZE`] on a new SQLite file, or on the PostgreSQL server of
    /// `TEST_DATABASE_URL` (`scripts/with-postgres.sh` sets it), and a table of its own.
    struct Fixture {
        connections: Connections,
        table: String,
        /// The SQLite file's directory, removed at the end.
        dir: Option<std::path::PathBuf>,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            if let Some(dir) = &self.dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    async fn open(backend: Backend, ping_after: Option<Duration>) -> Fixture {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("addon-connections-{}", addon_manifest::random_secret()));
                std::fs::create_dir_all(&dir).unwrap();
                (format!("sqlite://{}?mode=rwc", dir.join("registry.db").display()), Some(dir))
            }
            Backend::Postgres => {
                let url = std::env::var("TEST_DATABASE_URL")
                    .expect("TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh");
                (url, None)
            }
        };
        sqlx::any::install_default_drivers();
        let sizes = DbConnections { registry: Some(SIZE), vendor: None };
        let pool = pool::connect(&url, backend, sizes, Purpose::Registry).await.unwrap();
        let table = format!("connections_test_{}", &addon_manifest::random_secret()[..12]);
        sqlx::query(&format!("CREATE TABLE {table} (n BIGINT NOT NULL)")).execute(&pool).await.unwrap();
        Fixture { connections: Connections::new(pool, ping_after), table, dir }
    }

    /// Drops the table (PostgreSQL's database outlives the test) and closes the pool.
    async fn finish(fixture: Fixture) {
        let drop_table = format!("DROP TABLE {}", fixture.table);
        sqlx::query(&drop_table).execute(fixture.connections.pool()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), fixture.connections.close())
            .await
            .expect("the pool closes");
    }

    /// Which connection this is: a temporary table lives only on the connection that made it.
    async fn mark(lent: &mut Lent<'_>) {
        sqlx::query("CREATE TEMPORARY TABLE marked (n BIGINT)").execute(&mut **lent).await.unwrap();
    }

    async fn is_marked(lent: &mut Lent<'_>) -> bool {
        sqlx::query("SELECT n FROM marked").fetch_optional(&mut **lent).await.is_ok()
    }

    async fn rows(connections: &Connections, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(connections)
            .await
            .unwrap()
            .get::<i64, _>("n")
    }

    async fn finished_work_is_kept_and_the_next_statement_takes_that_connection(backend: Backend) {
        let fixture = open(backend, None).await;
        let (connections, table) = (&fixture.connections, fixture.table.as_str());
        let mut lent = connections.lend().await.unwrap();
        mark(&mut lent).await;
        lent.done();
        assert_eq!(connections.kept().len(), 1);
        let mut again = connections.lend().await.unwrap();
        assert!(is_marked(&mut again).await, "the kept connection is lent again");
        again.done();
        // As an executor: one statement, rows, affected counts; the connection kept each time.
        for n in 0..3_i64 {
            let done = sqlx::query(&format!("INSERT INTO {table} (n) VALUES ($1)"))
                .bind(n)
                .execute(connections)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
        }
        let all =
            sqlx::query(&format!("SELECT n FROM {table} ORDER BY n")).fetch_all(connections).await.unwrap();
        assert_eq!(all.iter().map(|row| row.get::<i64, _>("n")).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(connections.kept().len(), 1);
        finish(fixture).await;
    }

    async fn unfinished_work_leaves_nothing_open_and_is_not_kept(backend: Backend) {
        let fixture = open(backend, None).await;
        let (connections, table) = (&fixture.connections, fixture.table.as_str());
        // A request dropped in the middle of its transaction (a client gone, a timeout).
        let cut_off = async {
            let mut lent = connections.lend().await.unwrap();
            let mut tx = lent.begin().await.unwrap();
            sqlx::query(&format!("INSERT INTO {table} (n) VALUES (1)")).execute(&mut *tx).await.unwrap();
            std::future::pending::<()>().await;
        };
        assert!(tokio::time::timeout(Duration::from_millis(200), cut_off).await.is_err());
        // A statement that fails.
        let failed =
            sqlx::query("SELECT no_such_column FROM no_such_table").fetch_optional(connections).await;
        assert!(failed.is_err());
        assert_eq!(connections.kept().len(), 0, "neither connection is kept");
        // Every connection of the pool (the runtime's turns and the one left for others), each
        // in a transaction: none is still inside the one cut off (BEGIN would fail).
        let mut lent = Vec::new();
        for _ in 0..SIZE - 1 {
            lent.push(connections.lend().await.unwrap());
        }
        let mut other = connections.pool().acquire().await.unwrap();
        for connection in lent.iter_mut().map(|lent| &mut **lent).chain([&mut *other]) {
            sqlx::query("BEGIN").execute(&mut *connection).await.expect("no transaction is left open");
            sqlx::query("ROLLBACK").execute(&mut *connection).await.unwrap();
        }
        drop((lent, other));
        assert_eq!(rows(connections, table).await, 0, "the cut-off transaction wrote nothing");
        finish(fixture).await;
    }

    async fn the_pool_always_has_a_connection_left_for_others(backend: Backend) {
        let fixture = open(backend, None).await;
        let connections = &fixture.connections;
        let mut all = Vec::new();
        for _ in 0..SIZE - 1 {
            all.push(connections.lend().await.unwrap());
        }
        let other = tokio::time::timeout(Duration::from_secs(1), connections.pool().acquire()).await;
        assert!(matches!(other, Ok(Ok(_))), "Store::pool still hands out a connection");
        // The next statement waits its turn, and gets the first connection given back.
        let waiting = tokio::time::timeout(Duration::from_millis(100), connections.lend()).await;
        assert!(waiting.is_err(), "every turn is taken");
        drop(waiting);
        let (waiter, given_back) = tokio::join!(
            async {
                let mut lent = connections.lend().await.unwrap();
                is_marked(&mut lent).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let mut first = all.pop().unwrap();
                mark(&mut first).await;
                first.done();
            }
        );
        let () = given_back;
        assert!(waiter, "the waiter got the connection given back");
        for lent in all {
            lent.done();
        }
        assert!(connections.kept().len() < SIZE as usize, "at most one fewer than the pool is kept");
        drop(other);
        // And closing does not wait for the kept ones.
        finish(fixture).await;
    }

    /// Runs each listed test on a SQLite file and on the PostgreSQL of `TEST_DATABASE_URL`, as
    /// the integration tests' `on_both_databases!` does.
    macro_rules! on_both_databases {
        ($($name:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test]
                    async fn $name() {
                        super::$name(super::Backend::Sqlite).await
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test]
                    async fn $name() {
                        super::$name(super::Backend::Postgres).await
                    }
                )*
            }
        };
    }

    on_both_databases!(
        finished_work_is_kept_and_the_next_statement_takes_that_connection,
        unfinished_work_leaves_nothing_open_and_is_not_kept,
        the_pool_always_has_a_connection_left_for_others,
    );

    /// A kept PostgreSQL connection the server cut while it waited is found by the ping before
    /// use, closed, and replaced: the statement succeeds on a new one.
    #[tokio::test]
    async fn a_kept_postgres_connection_cut_while_idle_is_replaced() {
        let fixture = open(Backend::Postgres, Some(Duration::ZERO)).await;
        let connections = &fixture.connections;
        let pid = |row: AnyRow| row.get::<i32, _>("pid");
        let mut lent = connections.lend().await.unwrap();
        let first = pid(sqlx::query("SELECT pg_backend_pid() AS pid").fetch_one(&mut *lent).await.unwrap());
        lent.done();
        let mut admin = connections.pool().acquire().await.unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)").bind(first).execute(&mut *admin).await.unwrap();
        drop(admin);
        let row = sqlx::query("SELECT pg_backend_pid() AS pid").fetch_one(connections).await;
        let second = pid(row.expect("the statement runs on a new connection"));
        assert_ne!(first, second);
        finish(fixture).await;
    }
}
