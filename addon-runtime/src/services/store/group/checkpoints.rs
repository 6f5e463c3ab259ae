//! SQLite's WAL checkpoints beside the writer instead of inside its commits.
//!
//! By default SQLite checkpoints in the commit that grows the WAL past 1,000 pages: that commit
//! copies the pages into the database file and syncs it before it returns, and every provision
//! waiting on the batch waits for it too. Under a steady stream of new provisions that was most
//! of their p99 (with checkpoints turned off for a run, p99 went from 14.96 to 8.15 ms, p50
//! 4.9 ms in both). Here a task of the writer's checkpoints after its commits (`PASSIVE`: it never
//! waits for a lock, and readers and the next commit go on beside it), at most once per
//! [`SPACING`]; SQLite's own checkpoint stays as the backstop at a larger size
//! (`SQLITE_BACKSTOP_CHECKPOINT_PAGES` in `pool.rs`), for writes made outside the writer and for a
//! checkpointer that fell behind.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::services::store::connections::Connections;

/// The least time between two checkpoints. The longer, the more pages each copies and the longer
/// it holds the disk: new provisions on SQLite (5 s × 3 rounds, p99 against p50) measured
/// 1.5× with 5 ms, 2.0× with 10, 2.5× with 20, 3.3× with 30 and 5.0× with 100. With no spacing
/// (checkpoints back to back) 1.4×, at the lowest rate: 4,824 a second against 5,795-7,011.
const SPACING: Duration = Duration::from_millis(10);

/// The handle of the checkpoint task; the task ends when this is dropped (with its writer).
pub(super) struct Checkpoints {
    due: mpsc::Sender<()>,
}

impl Checkpoints {
    pub(super) fn start(connections: Connections) -> Self {
        // One slot: commits made while a checkpoint runs, or while it rests, ask for one more.
        let (due, mut wake) = mpsc::channel(1);
        tokio::spawn(async move {
            while wake.recv().await.is_some() {
                checkpoint(&connections).await;
                tokio::time::sleep(SPACING).await;
            }
        });
        Self { due }
    }

    /// A commit added to the WAL: a checkpoint follows, unless one is already asked for.
    pub(super) fn after_commit(&self) {
        let _ = self.due.try_send(());
    }
}

async fn checkpoint(connections: &Connections) {
    // On a lent connection, given back once the checkpoint ran (`Executor for &Connections`).
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(connections).await {
        // The backstop checkpoints in its place; the next commit asks again.
        tracing::debug!("a WAL checkpoint failed: {error}");
    }
}
