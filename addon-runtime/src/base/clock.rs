//! The only source of time in the runtime: SSO windows, cookie expiry, session lifetimes, row
//! stamps, job deadlines and token expiry all read a [`Clock`]. Production uses the system's;
//! tests move a [`ManualClock`] by seconds or hours instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now_ms(&self) -> i64;

    /// Whole seconds since the Unix epoch (never negative).
    fn now_secs(&self) -> u64 {
        u64::try_from(self.now_ms() / 1000).unwrap_or(0)
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, millis)
    }
}

/// A clock that starts at the system time and then moves only when told, for tests of what
/// happens seconds or hours later.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self { now: Arc::new(AtomicI64::new(SystemClock.now_ms())) }
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(millis(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// A duration in milliseconds, saturating far below `i64::MAX` so sums of stamps cannot overflow.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4).min(i64::MAX / 4)
}

/// The clock every part of one app reads.
pub(crate) type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub(crate) fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::default();
        let start = clock.now_ms();
        assert_eq!(clock.now_ms(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now_ms(), start + 90_000);
        assert_eq!(clock.now_secs(), u64::try_from((start + 90_000) / 1000).unwrap());
    }
}
