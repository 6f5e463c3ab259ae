//! Time, as the runtime reads it for jobs and tokens: the system clock in production, a clock a
//! test can move (twelve hours in a line) in tests.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now_ms(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::store::now_ms()
    }
}

/// A clock that starts at the system time and then moves only when told, for tests of what
/// happens hours later.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self { now: Arc::new(AtomicI64::new(crate::store::now_ms())) }
    }
}

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        self.now.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}
