//! The plans Acme Logs sells and what each allows: lines stored per day (UTC) and how long lines
//! are kept. The drain enforces the first, [`LogBook`](crate::LogBook) the second.

use std::time::Duration;

/// A plan: its slug (as in the manifest and Heroku's requests) and its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub slug: &'static str,
    /// Lines a resource may store per UTC day; frames past it are refused with 429.
    pub lines_per_day: u64,
    /// Lines older than this (by arrival) are pruned and never returned by a search.
    pub retention_days: u32,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl Plan {
    pub fn retention(&self) -> Duration {
        DAY * self.retention_days
    }
}

/// The plans, cheapest first.
pub const PLANS: [Plan; 3] = [
    Plan { slug: "test", lines_per_day: 1_000, retention_days: 1 },
    Plan { slug: "basic", lines_per_day: 1_000_000, retention_days: 7 },
    Plan { slug: "pro", lines_per_day: 20_000_000, retention_days: 30 },
];

/// The plan with this slug.
pub fn plan(slug: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|plan| plan.slug == slug)
}

/// `1000000` as `1,000,000`, for messages people read.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000), "1,000");
        assert_eq!(super::thousands(20_000_000), "20,000,000");
    }
}
