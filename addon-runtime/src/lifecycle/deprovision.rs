//! Deprovision: under the resource's lease; final once it succeeds (later calls get 410), and
//! it cancels the resource's pending jobs in the same transaction.

use std::sync::Arc;

use super::leases::leased;
use super::{jobs, Core};
use crate::base::answer::AddonError;
use crate::base::protocol::{DeprovisionRequest, Deprovisioned, Marketplace};
use crate::services::store::{JobKind, ResourceState};
use crate::services::vendor::{self, addon::Addon};

/// Removes the resource of `marketplace` that `id` names, detached from the caller.
pub(crate) async fn deprovision<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    id: String,
) -> Result<Deprovisioned, AddonError> {
    let core = core.clone();
    vendor::detached(async move { deprovision_once(&core, marketplace, &id).await }).await
}

async fn deprovision_once<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    id: &str,
) -> Result<Deprovisioned, AddonError> {
    // A resource still being provisioned (or whose provisioning failed) can be removed too.
    let states = [ResourceState::Provisioned, ResourceState::Pending, ResourceState::Failed];
    let (record, _local) = leased(core, marketplace, id, &states).await?;
    let request =
        DeprovisionRequest::new(record.uuid.clone(), record.plan.clone()).with_marketplace(marketplace);
    let addon = core.addon.clone();
    let called = vendor::call(core.settings.handler_timeout, "deprovision", async move {
        addon.deprovision(request).await
    })
    .await;
    match called {
        Ok(deprovisioned) => {
            let follow_up =
                deprovisioned.later.is_some().then(|| jobs::follow_up(core, JobKind::Deprovision));
            core.store.mark_deprovisioned(&record.uuid, follow_up).await?;
            Ok(deprovisioned)
        }
        Err(error) => {
            core.store.release(&record.uuid).await?;
            Err(error)
        }
    }
}
