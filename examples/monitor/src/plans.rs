//! What each plan allows, in one place beside the plans the attribute declares: how many
//! monitors a resource may have. Creating a monitor and changing plans both read it.

use addon_runtime::Plan;

use crate::Pingly;

/// Monitors per plan, smallest first. A plan declared in `#[heroku_addon(plans = [...])]` but
/// missing here would allow no monitors: `limit_of` is total, so such a mistake shows at once.
pub const MONITOR_LIMITS: [(Plan, u32); 2] = [(Pingly::HOBBY, 3), (Pingly::PRO, 50)];

/// How many monitors `plan` allows (0 for a plan this table does not list).
pub fn limit_of(plan: &str) -> u32 {
    MONITOR_LIMITS.iter().find(|(slug, _)| slug == plan).map_or(0, |(_, limit)| *limit)
}

/// "3 monitors", "1 monitor": for messages people read.
pub(crate) fn monitors(n: u64) -> String {
    if n == 1 {
        "1 monitor".to_owned()
    } else {
        format!("{n} monitors")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_plan_has_a_limit() {
        for plan in <Pingly as addon_runtime::Addon>::SPEC.plans {
            assert!(limit_of(plan) > 0, "the plan `{plan}` has no monitor limit");
        }
        assert_eq!((limit_of("hobby"), limit_of("pro"), limit_of("gold")), (3, 50, 0));
    }
}
