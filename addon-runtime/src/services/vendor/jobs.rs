//! What the vendor's completion methods receive when a 202 is finished in the background.

use std::collections::BTreeMap;

use crate::services::platform::HerokuApi;

/// The work left after `#[provision]` answered [`Provisioned::later`](crate::Provisioned::later).
///
/// The method may run more than once for one resource (a retry after a failure, a restart):
/// make it safe to repeat.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProvisionJob {
    pub uuid: String,
    pub plan: crate::base::protocol::Plan,
    pub region: Option<String>,
    pub options: BTreeMap<String, String>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// The Platform API with this resource's token (the OAuth grant is already exchanged).
    /// Heroku's resources only: for another marketplace's, the runtime sets the returned config
    /// through that marketplace's API.
    pub heroku: HerokuApi,
    /// The marketplace that sold the resource.
    pub marketplace: crate::base::protocol::Marketplace,
}

/// The work left after `#[plan_change]` answered [`PlanChanged::later`](crate::PlanChanged::later).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PlanChangeJob {
    pub uuid: String,
    pub plan: crate::base::protocol::Plan,
    pub previous_plan: crate::base::protocol::Plan,
    pub attempt: u32,
    pub heroku: HerokuApi,
    /// The marketplace that sold the resource.
    pub marketplace: crate::base::protocol::Marketplace,
}

/// The work left after `#[deprovision]` answered [`Deprovisioned::later`](crate::Deprovisioned::later).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeprovisionJob {
    pub uuid: String,
    pub plan: crate::base::protocol::Plan,
    pub attempt: u32,
    pub heroku: HerokuApi,
    /// The marketplace that sold the resource.
    pub marketplace: crate::base::protocol::Marketplace,
}
