//! What a marketplace tells the add-on about a resource outside the four calls: DigitalOcean's
//! notifications. The runtime records each one first (suspension, a new plan or name, a failed
//! deprovision); the vendor's optional `#[notification]` method hears of it afterwards.

use std::fmt;

use super::{Marketplace, Plan};

/// What happened to a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The account was suspended (for example, for an unpaid bill): the resource keeps its data,
    /// and its sign-in, sessions and API key are refused until it is reactivated.
    Suspended,
    /// A suspended account is in good standing again.
    Reactivated,
    /// The marketplace could not deprovision the resource on its side.
    DeprovisioningFailed,
    /// The marketplace reports the resource's plan or name (the registry now has them).
    Updated { plan: Option<Plan>, name: Option<String> },
}

impl Notice {
    /// A short name for logs: `suspended`, `reactivated`, `deprovisioning_failed`, `updated`.
    pub fn name(&self) -> &'static str {
        match self {
            Notice::Suspended => "suspended",
            Notice::Reactivated => "reactivated",
            Notice::DeprovisioningFailed => "deprovisioning_failed",
            Notice::Updated { .. } => "updated",
        }
    }
}

/// One resource's notice, as the vendor's `#[notification]` method receives it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Notification {
    pub uuid: String,
    pub marketplace: Marketplace,
    pub notice: Notice,
    /// When the marketplace says it happened (Unix seconds), if it said.
    pub created_at: Option<i64>,
}

impl Notification {
    pub fn new(uuid: impl Into<String>, marketplace: Marketplace, notice: Notice) -> Self {
        Self { uuid: uuid.into(), marketplace, notice, created_at: None }
    }
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("uuid", &self.uuid)
            .field("marketplace", &self.marketplace)
            .field("notice", &self.notice)
            .field("created_at", &self.created_at)
            .finish()
    }
}
