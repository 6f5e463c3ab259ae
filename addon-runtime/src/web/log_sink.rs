//! Where log lines go: standard output. While a server runs, informational lines are gathered in
//! memory and written together every [`EVERY`] (or as soon as [`BATCH`] bytes wait), so a
//! request's line costs a copy rather than a `write` of its own; the server's flush task does
//! the writing, on the runtime the server already runs on, with no thread of its own.
//!
//! Warnings and errors are written before the call that logs them returns (after every line
//! gathered before them), and everything gathered is written when the server stops: a process
//! that exits on the error it just logged never loses it. What a process killed outright (out
//! of memory, `SIGKILL`) can lose is at most the last [`EVERY`] of informational lines.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long an informational line may wait in memory while a server runs.
pub(crate) const EVERY: Duration = Duration::from_millis(50);

/// How much may wait before the line that passes it writes them all.
const BATCH: usize = 64 * 1024;

/// Lines waiting to be written.
static GATHERED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Whether a flush task runs (a server is serving); otherwise every line is written at once.
static GATHERING: AtomicBool = AtomicBool::new(false);

/// Whether the process logs through [`crate::init_logging`]'s plain format (see `web::trace`).
static PLAIN: AtomicBool = AtomicBool::new(false);

/// Whether the log is the plain one [`crate::init_logging`] installs when standard output is
/// not a terminal.
pub(crate) fn plain() -> bool {
    PLAIN.load(Ordering::Relaxed)
}

/// Called once that log is installed.
pub(crate) fn set_plain() {
    PLAIN.store(true, Ordering::Relaxed);
}

fn gathered() -> MutexGuard<'static, Vec<u8>> {
    // A panic while holding the lock leaves at worst a partial line: keep logging.
    GATHERED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes everything gathered, then `line`, in order.
fn write_through(line: &[u8]) {
    let mut waiting = gathered();
    let mut out = std::io::stdout().lock();
    if !waiting.is_empty() {
        let _ = out.write_all(&waiting);
        waiting.clear();
    }
    let _ = out.write_all(line);
    let _ = out.flush();
}

/// Gathers `line`, or writes it (and what waits) when no server gathers or the batch is full.
pub(crate) fn gather(line: &[u8]) {
    gather_with(|out| out.extend_from_slice(line));
}

/// Gathers the line `write` appends, written straight into the batch (no buffer of its own),
/// or writes it after what waits when no server gathers or the batch is full.
pub(crate) fn gather_with(write: impl FnOnce(&mut Vec<u8>)) {
    if GATHERING.load(Ordering::Relaxed) {
        let mut waiting = gathered();
        if waiting.len() < BATCH {
            write(&mut waiting);
            return;
        }
    }
    let mut line = Vec::with_capacity(256);
    write(&mut line);
    write_through(&line);
}

/// Runs `serving` with informational lines gathered and written every [`EVERY`]; everything
/// is written when it ends.
pub(crate) async fn gathering<T>(serving: impl Future<Output = T>) -> T {
    // Only the first server of a process gathers (tests may run several); the others write
    // their lines as they come, which is always correct.
    if GATHERING.swap(true, Ordering::SeqCst) {
        return serving.await;
    }
    let flusher = tokio::spawn(async {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if !gathered().is_empty() {
                write_through(&[]);
            }
        }
    });
    let outcome = serving.await;
    flusher.abort();
    GATHERING.store(false, Ordering::SeqCst);
    write_through(&[]);
    outcome
}

/// The `MakeWriter` [`crate::init_logging`] installs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GatheredStdout;

/// One event's writer: the formatter hands it the whole line in one `write_all`.
pub(crate) struct Line {
    urgent: bool,
}

impl Write for Line {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        if self.urgent {
            write_through(line);
        } else {
            gather(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for GatheredStdout {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { urgent: true }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line { urgent: *meta.level() <= Level::WARN }
    }
}
