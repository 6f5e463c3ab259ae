//! Plan change: under the resource's lease, so it never runs beside another plan change or a
//! deprovision of the same resource, on any instance.

use std::sync::Arc;

use super::leases::{leased, unleased_plan};
use super::{jobs, Core};
use crate::base::answer::AddonError;
use crate::base::protocol::{check_plan, Config, Marketplace, PlanChangeRequest};
use crate::services::store::{FollowUp, JobKind, ResourceState};
use crate::services::vendor::{self, addon::Addon};

/// What a plan change did.
#[derive(Debug)]
pub(crate) struct PlanChangeOutcome {
    /// Config that changed with the plan, if the vendor returned any.
    pub(crate) config: Option<Config>,
    pub(crate) message: Option<String>,
    /// Accepted; `#[complete_plan_change]` finishes it in the background.
    pub(crate) accepted: bool,
}

/// Moves the resource of `marketplace` that `id` names to `plan`, detached from the caller. A plan the add-on does not
/// declare is refused first, before the resource is looked up; the current plan is a no-op that
/// never reaches the vendor.
pub(crate) async fn change_plan<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    id: String,
    plan: String,
) -> Result<PlanChangeOutcome, AddonError> {
    change_plan_with(core, marketplace, id, plan, false).await
}

/// [`change_plan`] for a platform that may be unable to wait: with `synchronous_only`, a vendor
/// that answers `PlanChanged::later` gets the platform's refusal (OSB's `AsyncRequired`), the
/// resource stays on its plan and the lease is released, so the platform's retry (able to wait)
/// starts afresh.
pub(crate) async fn change_plan_with<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    id: String,
    plan: String,
    synchronous_only: bool,
) -> Result<PlanChangeOutcome, AddonError> {
    check_plan(&plan).map_err(|problem| AddonError::invalid_request("plan change request", problem))?;
    if !A::SPEC.has_plan(&plan) {
        return Err(AddonError::unknown_plan(&plan, A::SPEC.plans));
    }
    // A re-delivered plan change to the plan the resource is on, with nothing else holding it:
    // the answer is known from one read, with no lease to take and release (two commits).
    if unleased_plan(core, marketplace, &id).await?.as_deref() == Some(plan.as_str()) {
        return Ok(already_on(&plan));
    }
    // Boxed, as a provision's first claim is (`provision.rs`): the no-op above stays small.
    let core = core.clone();
    let change = async move { change_once(&core, marketplace, &id, plan, synchronous_only).await };
    vendor::detached(Box::pin(change)).await
}

fn already_on(plan: &str) -> PlanChangeOutcome {
    let message = format!("The add-on is already on the {plan} plan.");
    PlanChangeOutcome { config: None, message: Some(message), accepted: false }
}

async fn change_once<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    id: &str,
    plan: String,
    synchronous_only: bool,
) -> Result<PlanChangeOutcome, AddonError> {
    let (record, _local) = leased(core, marketplace, id, &[ResourceState::Provisioned]).await?;
    if record.plan == plan {
        core.store.release(&record.uuid).await?;
        tracing::info!(uuid = %record.uuid, %plan, "plan change to the current plan: nothing to do");
        return Ok(already_on(&plan));
    }
    let request = PlanChangeRequest::new(record.uuid.clone(), plan.clone(), record.plan.clone())
        .with_marketplace(marketplace);
    let addon = core.addon.clone();
    let called = vendor::call(core.settings.handler_timeout, "plan_change", async move {
        addon.plan_change(request).await
    })
    .await
    .and_then(|changed| match changed.config.as_ref().map(|c| c.check(A::SPEC.config_vars)) {
        Some(Err(problem)) => Err(AddonError::vendor_bug("plan_change", &problem)),
        _ if changed.later && synchronous_only => Err(AddonError::osb_async_required()),
        _ => Ok(changed),
    });
    let changed = match called {
        Ok(changed) => changed,
        Err(error) => {
            core.store.release(&record.uuid).await?;
            return Err(error);
        }
    };
    let mut config = record.config;
    if let Some(new) = &changed.config {
        config.extend(new.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())));
    }
    let follow_up = changed.later.then(|| FollowUp {
        payload: serde_json::json!({ "previous_plan": record.plan }),
        ..jobs::follow_up(core, JobKind::PlanChange)
    });
    core.store.change_plan(&record.uuid, &plan, &config, follow_up).await?;
    Ok(PlanChangeOutcome { config: changed.config, message: changed.message, accepted: changed.later })
}
