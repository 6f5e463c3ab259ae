//! Where Acme Logs keeps what drains send: its own tables, in the database the runtime's registry
//! already uses (`Store::pool`), so SQLite by default and PostgreSQL when `DATABASE_URL` says so.
//!
//! - `acme_log_lines`: one row per syslog message, with its own timestamp for ordering.
//! - `acme_drain_frames`: the `Logplex-Frame-Id`s seen per resource in the last day. Its primary
//!   key is what makes a redelivered frame a no-op, even when both copies arrive at once on two
//!   instances.
//! - `acme_drain_stats`: per resource, frames stored, lines, duplicates ignored, frames refused.

use std::time::{SystemTime, UNIX_EPOCH};

use addon_runtime::{AddonError, Backend, Store};
use sqlx::{Any, AnyPool, Executor, Row};

use crate::logplex::Message;

/// How long a frame id is remembered. Logplex retries within minutes; a day is ample.
const FRAME_MEMORY_MICROS: i64 = 24 * 60 * 60 * 1_000_000;

/// An arbitrary constant naming this example's schema lock on PostgreSQL.
const SCHEMA_LOCK: i64 = 0x6163_6d65_5f6c_6f67;

/// The log store of every tenant.
#[derive(Clone, Debug)]
pub struct LogBook {
    pool: AnyPool,
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
}

impl LogBook {
    /// Creates the tables if they are missing, on the registry's database.
    pub async fn open(store: &Store) -> Result<Self, sqlx::Error> {
        let pool = store.pool().clone();
        let id_column = match store.backend() {
            Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
        };
        let mut tx = pool.begin().await?;
        if store.backend() == Backend::Postgres {
            // Two instances starting at once would otherwise race on CREATE TABLE.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SCHEMA_LOCK).execute(&mut *tx).await?;
        }
        for statement in [
            format!(
                "CREATE TABLE IF NOT EXISTS acme_log_lines ({id_column}, resource_uuid TEXT NOT NULL, \
                 logged_at BIGINT NOT NULL, received_at BIGINT NOT NULL, priority BIGINT NOT NULL, \
                 host TEXT NOT NULL, app TEXT NOT NULL, process TEXT NOT NULL, message TEXT NOT NULL)"
            ),
            "CREATE INDEX IF NOT EXISTS acme_log_lines_recent ON acme_log_lines (resource_uuid, logged_at)".into(),
            "CREATE TABLE IF NOT EXISTS acme_drain_frames (resource_uuid TEXT NOT NULL, frame_id TEXT NOT NULL, \
             received_at BIGINT NOT NULL, PRIMARY KEY (resource_uuid, frame_id))"
                .into(),
            "CREATE TABLE IF NOT EXISTS acme_drain_stats (resource_uuid TEXT PRIMARY KEY, \
             frames BIGINT NOT NULL, lines BIGINT NOT NULL, duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL)"
                .into(),
        ] {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Self { pool })
    }

    /// Stores a frame's lines, once per `frame_id`, in one transaction: a frame is stored whole
    /// or not at all, and a failure leaves no trace of its id, so Logplex's retry succeeds.
    pub async fn store_frame(
        &self,
        uuid: &str,
        frame_id: Option<&str>,
        messages: &[Message],
    ) -> Result<Stored, sqlx::Error> {
        let now = now_micros();
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
        for message in messages {
            sqlx::query(
                "INSERT INTO acme_log_lines (resource_uuid, logged_at, received_at, priority, host, app, process, \
                 message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(uuid)
            .bind(message.timestamp.unwrap_or(now))
            .bind(now)
            .bind(i64::from(message.priority))
            .bind(&message.host)
            .bind(&message.app)
            .bind(&message.process)
            .bind(&message.text)
            .execute(&mut *tx)
            .await?;
        }
        let lines = i64::try_from(messages.len()).unwrap_or(i64::MAX);
        count(&mut *tx, uuid, DrainStats { frames: 1, lines, ..DrainStats::default() }).await?;
        tx.commit().await?;
        Ok(Stored::Lines(messages.len()))
    }

    /// Counts a frame refused as malformed.
    pub async fn reject_frame(&self, uuid: &str) -> Result<(), sqlx::Error> {
        count(&self.pool, uuid, DrainStats { rejected: 1, ..DrainStats::default() }).await
    }

    /// The most recent lines, newest first (by their own timestamps, then by arrival), those
    /// containing `search` only when given (ignoring ASCII case; `%` and `_` match themselves).
    pub async fn recent(
        &self,
        uuid: &str,
        search: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LogLine>, sqlx::Error> {
        let filter = if search.is_some() {
            "AND LOWER(app || ' ' || process || ' ' || message) LIKE LOWER($3) ESCAPE '\\'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT logged_at, priority, app, process, message FROM acme_log_lines WHERE resource_uuid = $1 \
             {filter} ORDER BY logged_at DESC, id DESC LIMIT $2"
        );
        let mut query = sqlx::query(&sql).bind(uuid).bind(i64::from(limit));
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
        tx.commit().await
    }
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

pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
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
