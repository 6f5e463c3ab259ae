//! Where Acme Logs keeps what drains send: its own tables, in the database the runtime's registry
//! already uses, through the vendor's own pool (`Store::vendor_pool`), so a flood of frames or
//! searches never takes the registry's connections. SQLite by default and PostgreSQL when
//! `DATABASE_URL` says so.
//!
//! - `acme_log_lines`: one row per syslog message, with its own timestamp for ordering.
//! - `acme_drain_frames`: the `Logplex-Frame-Id`s seen per resource in the last day. Its primary
//!   key is what makes a redelivered frame a no-op, even when both copies arrive at once on two
//!   instances.
//! - `acme_drain_stats`: per resource, frames stored, lines, duplicates ignored, frames refused.
//! - `acme_daily_lines`: per resource and UTC day, lines stored: the plan's daily limit.
//!
//! A frame is written in one short transaction with its lines batched into few statements, so
//! on SQLite (one writer at a time) the registry's writes wait milliseconds behind it.

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::{AddonError, Backend, Clock, Migrations, Store, SystemClock};
use sqlx::{Any, AnyPool, Executor, Row};

use crate::logplex::Message;
use crate::plans::Plan;

/// Lines per `INSERT`: 8 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535.
const LINES_PER_STATEMENT: usize = 500;
/// Expired lines deleted per frame at most, so pruning never makes a long transaction.
const PRUNE_BATCH: i64 = 2_000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a frame id is remembered. Logplex retries within minutes; a day is ample.
const FRAME_MEMORY_MICROS: i64 = 24 * 60 * 60 * 1_000_000;

/// The example's tables, in the order they were introduced; the runtime applies each once per
/// database (`addon_vendor_schema` records them). A released migration is never edited: a change
/// is a new one at the end.
///
/// The statements keep `IF NOT EXISTS`: databases from before the runtime ran these migrations
/// already have the tables.
fn migrations() -> Migrations {
    Migrations::new("acme-logs")
        .add_per_backend(
            "log lines",
            LOG_LINES.replace("{id}", "id INTEGER PRIMARY KEY AUTOINCREMENT"),
            LOG_LINES.replace("{id}", "id BIGSERIAL PRIMARY KEY"),
        )
        .add(
            "daily lines, frames and drain stats",
            "CREATE TABLE IF NOT EXISTS acme_daily_lines (resource_uuid TEXT NOT NULL, day BIGINT NOT NULL, \
             lines BIGINT NOT NULL, PRIMARY KEY (resource_uuid, day));
             CREATE TABLE IF NOT EXISTS acme_drain_frames (resource_uuid TEXT NOT NULL, frame_id TEXT NOT NULL, \
             received_at BIGINT NOT NULL, PRIMARY KEY (resource_uuid, frame_id));
             CREATE TABLE IF NOT EXISTS acme_drain_stats (resource_uuid TEXT PRIMARY KEY, \
             frames BIGINT NOT NULL, lines BIGINT NOT NULL, duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL)",
        )
}

/// `acme_log_lines` and its indexes; `{id}` is the backend's auto-incremented key.
const LOG_LINES: &str = "CREATE TABLE IF NOT EXISTS acme_log_lines ({id}, resource_uuid TEXT NOT NULL, \
     logged_at BIGINT NOT NULL, received_at BIGINT NOT NULL, priority BIGINT NOT NULL, \
     host TEXT NOT NULL, app TEXT NOT NULL, process TEXT NOT NULL, message TEXT NOT NULL);
     CREATE INDEX IF NOT EXISTS acme_log_lines_recent ON acme_log_lines (resource_uuid, logged_at);
     CREATE INDEX IF NOT EXISTS acme_log_lines_arrival ON acme_log_lines (resource_uuid, received_at)";

/// The log store of every tenant.
#[derive(Clone, Debug)]
pub struct LogBook {
    pool: AnyPool,
    /// Arrival stamps, days for the daily limit and retention: the app's clock in tests.
    clock: Arc<dyn Clock>,
    /// On SQLite, frames are written one at a time in this process: writers queue here, in
    /// order, instead of at the file's lock, where each would be one more contender the
    /// registry's writes must win against.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A stored line, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Unix microseconds: the line's own timestamp, or its arrival if it had none.
    pub logged_at: i64,
    pub severity: u8,
    pub app: String,
    pub process: String,
    pub text: String,
}

/// What one resource's drain has delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainStats {
    /// Frames stored.
    pub frames: i64,
    /// Lines stored.
    pub lines: i64,
    /// Frames that arrived again (same `Logplex-Frame-Id`) and were ignored.
    pub duplicates: i64,
    /// Frames refused as malformed.
    pub rejected: i64,
}

/// What became of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    Lines(usize),
    /// Its frame id was already seen: nothing stored.
    Duplicate,
    /// Storing it would pass the plan's daily limit: nothing stored.
    OverDailyLimit {
        /// Lines already stored today.
        used: u64,
        /// Until the count starts again, at 00:00 UTC.
        resets_in: Duration,
    },
}

impl LogBook {
    /// Brings the tables up to date (its `migrations()`, through the runtime's migration lock), on
    /// the registry's database.
    pub async fn open(store: &Store) -> Result<Self, addon_runtime::Error> {
        store.migrate(&migrations()).await?;
        let pool = store.vendor_pool().clone();
        let writer = (store.backend() == Backend::Sqlite).then(Arc::default);
        Ok(Self { pool, clock: Arc::new(SystemClock), writer })
    }

    /// The same book, reading time from `clock` (tests move a `ManualClock` by days).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Stores a frame's lines, once per `frame_id`, in one transaction: a frame is stored whole
    /// or not at all, and a failure leaves no trace of its id, so Logplex's retry succeeds. A
    /// frame that would take the resource past `plan`'s lines for today is not stored. Lines
    /// past the plan's retention are pruned afterwards.
    pub async fn store_frame(
        &self,
        uuid: &str,
        plan: &Plan,
        frame_id: Option<&str>,
        messages: &[Message],
    ) -> Result<Stored, sqlx::Error> {
        let _turn = match &self.writer {
            Some(writer) => Some(writer.lock().await),
            None => None,
        };
        let now_ms = self.clock.now_ms();
        let now = now_ms.saturating_mul(1000);
        let mut tx = self.pool.begin().await?;
        if let Some(frame_id) = frame_id {
            let first = sqlx::query(
                "INSERT INTO acme_drain_frames (resource_uuid, frame_id, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(uuid)
            .bind(frame_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if first.rows_affected() == 0 {
                count(&mut *tx, uuid, DrainStats { duplicates: 1, ..DrainStats::default() }).await?;
                tx.commit().await?;
                return Ok(Stored::Duplicate);
            }
            sqlx::query("DELETE FROM acme_drain_frames WHERE resource_uuid = $1 AND received_at < $2")
                .bind(uuid)
                .bind(now - FRAME_MEMORY_MICROS)
                .execute(&mut *tx)
                .await?;
        }
        let lines = i64::try_from(messages.len()).unwrap_or(i64::MAX);
        let day = now_ms.div_euclid(DAY_MS);
        if !take_daily_lines(&mut tx, uuid, day, lines, plan.lines_per_day).await? {
            tx.rollback().await?;
            let used: Option<i64> = sqlx::query_scalar(
                "SELECT lines FROM acme_daily_lines WHERE resource_uuid = $1 AND day = $2",
            )
            .bind(uuid)
            .bind(day)
            .fetch_optional(&self.pool)
            .await?;
            let resets_in = Duration::from_millis(u64::try_from((day + 1) * DAY_MS - now_ms).unwrap_or(0));
            return Ok(Stored::OverDailyLimit { used: used.map_or(0, |n| n.unsigned_abs()), resets_in });
        }
        for chunk in messages.chunks(LINES_PER_STATEMENT) {
            insert_lines(&mut tx, uuid, now, chunk).await?;
        }
        count(&mut *tx, uuid, DrainStats { frames: 1, lines, ..DrainStats::default() }).await?;
        tx.commit().await?;
        if let Err(error) = self.prune(uuid, plan, now_ms).await {
            // The lines are stored; pruning is tried again with the next frame.
            tracing::warn!(%error, uuid, "could not prune expired lines");
        }
        Ok(Stored::Lines(messages.len()))
    }

    /// Deletes a batch of the resource's lines past `plan`'s retention, and old daily counts.
    async fn prune(&self, uuid: &str, plan: &Plan, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM acme_log_lines WHERE id IN (SELECT id FROM acme_log_lines \
             WHERE resource_uuid = $1 AND received_at < $2 LIMIT $3)",
        )
        .bind(uuid)
        .bind(retention_cutoff(plan, now_ms))
        .bind(PRUNE_BATCH)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM acme_daily_lines WHERE resource_uuid = $1 AND day < $2")
            .bind(uuid)
            .bind(now_ms.div_euclid(DAY_MS) - 1)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts a frame refused as malformed.
    pub async fn reject_frame(&self, uuid: &str) -> Result<(), sqlx::Error> {
        count(&self.pool, uuid, DrainStats { rejected: 1, ..DrainStats::default() }).await
    }

    /// The most recent lines within `plan`'s retention, newest first (by their own timestamps,
    /// then by arrival), those containing `search` only when given (ignoring ASCII case; `%`
    /// and `_` match themselves).
    pub async fn recent(
        &self,
        uuid: &str,
        plan: &Plan,
        search: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LogLine>, sqlx::Error> {
        let filter = if search.is_some() {
            "AND LOWER(app || ' ' || process || ' ' || message) LIKE LOWER($4) ESCAPE '\\'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT logged_at, priority, app, process, message FROM acme_log_lines WHERE resource_uuid = $1 \
             AND received_at >= $3 {filter} ORDER BY logged_at DESC, id DESC LIMIT $2"
        );
        let cutoff = retention_cutoff(plan, self.clock.now_ms());
        let mut query = sqlx::query(&sql).bind(uuid).bind(i64::from(limit)).bind(cutoff);
        if let Some(search) = search {
            query = query.bind(like_pattern(search));
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let priority: i64 = row.try_get("priority")?;
                Ok(LogLine {
                    logged_at: row.try_get("logged_at")?,
                    severity: u8::try_from(priority % 8).unwrap_or(6),
                    app: row.try_get("app")?,
                    process: row.try_get("process")?,
                    text: row.try_get("message")?,
                })
            })
            .collect()
    }

    pub async fn stats(&self, uuid: &str) -> Result<DrainStats, sqlx::Error> {
        let row = sqlx::query(
            "SELECT frames, lines, duplicates, rejected FROM acme_drain_stats WHERE resource_uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(DrainStats::default());
        };
        Ok(DrainStats {
            frames: row.try_get("frames")?,
            lines: row.try_get("lines")?,
            duplicates: row.try_get("duplicates")?,
            rejected: row.try_get("rejected")?,
        })
    }

    /// Deletes everything kept for a resource: what deprovisioning promises the customer.
    pub async fn forget(&self, uuid: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for table in ["acme_log_lines", "acme_drain_frames", "acme_drain_stats"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE resource_uuid = $1"))
                .bind(uuid)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM acme_daily_lines WHERE resource_uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// How many lines are kept for the resource, expired or not (for tests of pruning).
    pub async fn kept(&self, uuid: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM acme_log_lines WHERE resource_uuid = $1")
            .bind(uuid)
            .fetch_one(&self.pool)
            .await
    }
}

/// Adds `lines` to the resource's count for `day` unless that would pass `limit`; false if it
/// would. One statement, so two frames at once cannot both slip under the limit.
async fn take_daily_lines(
    tx: &mut sqlx::Transaction<'_, Any>,
    uuid: &str,
    day: i64,
    lines: i64,
    limit: u64,
) -> Result<bool, sqlx::Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if lines > limit {
        return Ok(false);
    }
    let taken = sqlx::query(
        "INSERT INTO acme_daily_lines (resource_uuid, day, lines) VALUES ($1, $2, $3) \
         ON CONFLICT (resource_uuid, day) DO UPDATE SET lines = acme_daily_lines.lines + excluded.lines \
         WHERE acme_daily_lines.lines + excluded.lines <= $4",
    )
    .bind(uuid)
    .bind(day)
    .bind(lines)
    .bind(limit)
    .execute(&mut **tx)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// One `INSERT` of up to [`LINES_PER_STATEMENT`] lines.
async fn insert_lines(
    tx: &mut sqlx::Transaction<'_, Any>,
    uuid: &str,
    now: i64,
    messages: &[Message],
) -> Result<(), sqlx::Error> {
    let mut sql = String::from(
        "INSERT INTO acme_log_lines (resource_uuid, logged_at, received_at, priority, host, app, process, message) \
         VALUES ",
    );
    for i in 0..messages.len() {
        let p = i * 8;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8
        ));
    }
    let mut query = sqlx::query(&sql);
    for message in messages {
        query = query
            .bind(uuid)
            .bind(message.timestamp.unwrap_or(now))
            .bind(now)
            .bind(i64::from(message.priority))
            .bind(&message.host)
            .bind(&message.app)
            .bind(&message.process)
            .bind(&message.text);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Arrival stamps (Unix microseconds) before this are past `plan`'s retention.
fn retention_cutoff(plan: &Plan, now_ms: i64) -> i64 {
    let retention_ms = i64::try_from(plan.retention().as_millis()).unwrap_or(i64::MAX);
    now_ms.saturating_sub(retention_ms).saturating_mul(1000)
}

/// Adds `delta` to a resource's counters, creating them on its first frame.
async fn count<'e>(
    executor: impl Executor<'e, Database = Any>,
    uuid: &str,
    delta: DrainStats,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO acme_drain_stats (resource_uuid, frames, lines, duplicates, rejected) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (resource_uuid) DO UPDATE SET frames = acme_drain_stats.frames + excluded.frames, \
         lines = acme_drain_stats.lines + excluded.lines, \
         duplicates = acme_drain_stats.duplicates + excluded.duplicates, \
         rejected = acme_drain_stats.rejected + excluded.rejected",
    )
    .bind(uuid)
    .bind(delta.frames)
    .bind(delta.lines)
    .bind(delta.duplicates)
    .bind(delta.rejected)
    .execute(executor)
    .await?;
    Ok(())
}

/// A `LIKE` pattern matching `search` anywhere, with `\`, `%` and `_` matching themselves.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The log store failed: the drain gets a 503 (Logplex retries) and pages say to come back.
pub fn unavailable(error: sqlx::Error) -> AddonError {
    tracing::error!(%error, "the log store failed");
    AddonError::unavailable("Acme Logs cannot reach its log store right now. Please try again in a moment.")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_match_themselves() {
        assert_eq!(super::like_pattern("100%"), "%100\\%%");
        assert_eq!(super::like_pattern("a_b\\c"), "%a\\_b\\\\c%");
        assert_eq!(super::like_pattern("GET /"), "%GET /%");
    }
}
