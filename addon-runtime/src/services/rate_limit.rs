//! Per-resource rate limits: each resource (a Heroku uuid) gets its own allowance, so one
//! tenant's flood is refused with 429 while every other tenant goes on as before.
//!
//! The counting is `governor`'s GCRA: a steady rate with bursts up to a size, no timer task, one
//! small state per resource seen. States of resources idle long enough to be full again are
//! dropped now and then, so memory follows the resources that are busy, not all ever seen.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::base::answer::AddonError;

/// How many checks between two sweeps of idle resources' states.
const SWEEP_EVERY: u32 = 4096;

/// A rate limit per resource, shared by the routes it guards (clones share the counts).
///
/// ```
/// # use addon_runtime::RateLimiter;
/// # use std::time::Duration;
/// // 10 requests a second per resource, with bursts of 20.
/// let drain = RateLimiter::new(10, Duration::from_secs(1)).with_burst(20);
/// assert!(drain.check("01234567-89ab-cdef-0123-456789abcdef").is_ok());
/// ```
///
/// Apply it where the resource is known: in a handler with [`RateLimiter::check`], or as the
/// [`Limited`](crate::Limited) extractor around your extractor of the resource.
#[derive(Clone)]
pub struct RateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    quota: Quota,
    checks: Arc<AtomicU32>,
}

impl RateLimiter {
    /// `requests` per `period` for each resource, in bursts of up to `requests` at once
    /// (a `requests` of 0 is taken as 1; a period under a microsecond as one).
    pub fn new(requests: u32, period: Duration) -> Self {
        let requests = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        let interval = (period / requests.get()).max(Duration::from_micros(1));
        let quota = Quota::with_period(interval).unwrap_or(Quota::per_second(requests)).allow_burst(requests);
        Self::from_quota(quota)
    }

    /// The same steady rate, with bursts of up to `burst` requests at once.
    pub fn with_burst(self, burst: u32) -> Self {
        Self::from_quota(self.quota.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)))
    }

    fn from_quota(quota: Quota) -> Self {
        Self { limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)), quota, checks: Arc::default() }
    }

    /// Counts one request of `resource` (its uuid): `Ok` while within the limit, else a 429
    /// whose message asks the client to slow down and whose `Retry-After` says when one more
    /// request will be let through.
    pub fn check(&self, resource: &str) -> Result<(), AddonError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&resource.to_owned()).map_err(|not_until| {
            AddonError::rate_limited(not_until.wait_time_from(self.limiter.clock().now()))
        })
    }

    /// Counts `n` units of `resource`'s work at once (lines in a batch, bytes): `Ok` while
    /// within the limit, else a 429 saying when `n` more will fit. A batch larger than the
    /// burst can never fit: a 413 says so.
    pub fn check_n(&self, resource: &str, n: u32) -> Result<(), AddonError> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match self.limiter.check_key_n(&resource.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                Err(AddonError::rate_limited(not_until.wait_time_from(self.limiter.clock().now())))
            }
            Err(_) => Err(AddonError::over_burst(n.get(), self.quota.burst_size().get())),
        }
    }

    /// How many resources' states are held now (the sweep keeps this to the busy ones).
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("burst", &self.quota.burst_size())
            .field("replenish_every", &self.quota.replenish_interval())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::RateLimiter;

    #[test]
    fn each_resource_has_its_own_allowance() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        let refused = limiter.check("a").unwrap_err();
        assert_eq!(refused.status().as_u16(), 429);
        let after = refused.retry_after().expect("a Retry-After");
        assert!(after > Duration::from_secs(20) && after <= Duration::from_secs(30), "{after:?}");
        assert!(refused.message().contains("try again in"), "{}", refused.message());
        assert!(limiter.check("b").is_ok(), "another resource is not held back");
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn batches_count_by_their_size() {
        let lines = RateLimiter::new(100, Duration::from_secs(60));
        assert!(lines.check_n("a", 60).is_ok());
        assert_eq!(lines.check_n("a", 60).unwrap_err().status().as_u16(), 429);
        assert_eq!(lines.check_n("a", 101).unwrap_err().status().as_u16(), 413);
        assert!(lines.check_n("a", 40).is_ok());
    }

    #[test]
    fn bursts_can_exceed_the_steady_rate() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60)).with_burst(5);
        assert_eq!((0..10).filter(|_| limiter.check("a").is_ok()).count(), 5);
    }
}
