//! What a marketplace reports about a resource outside the four calls (DigitalOcean's
//! notifications): recorded in the registry first, then told to the vendor's optional
//! `#[notification]` method. Suspension lives beside the state machine, so a suspended resource
//! keeps its state and data; only its sign-in, sessions and API key are refused meanwhile.

use std::sync::Arc;

use super::Core;
use crate::base::answer::AddonError;
use crate::base::protocol::{check_plan, Marketplace, Notice, Notification};
use crate::services::vendor::{self, addon::Addon};

/// Whether a notice reached a resource.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Recorded, and the vendor told.
    Recorded,
    /// No resource of this marketplace has this uuid: nothing to record (logged).
    Unknown,
}

/// Records `notice` for the resource of `marketplace` with this uuid and tells the vendor. A
/// plan the add-on does not declare is refused before anything is recorded.
pub(crate) async fn hear<A: Addon>(
    core: &Arc<Core<A>>,
    marketplace: Marketplace,
    uuid: &str,
    notice: Notice,
    created_at: Option<i64>,
) -> Result<Heard, AddonError> {
    if let Notice::Updated { plan: Some(plan), .. } = &notice {
        check_plan(plan)
            .map_err(|problem| AddonError::notification_malformed("resources.updated", problem))?;
        if !A::SPEC.has_plan(plan) {
            return Err(AddonError::unknown_plan(plan, A::SPEC.plans));
        }
    }
    let known = core.store.summary(uuid).await?.filter(|s| s.uuid == uuid && s.marketplace == marketplace);
    if known.is_none() {
        tracing::warn!(%uuid, notice = notice.name(), marketplace = marketplace.as_str(), "a notice for a resource this registry does not have");
        return Ok(Heard::Unknown);
    }
    let store = &core.store;
    match &notice {
        Notice::Suspended => {
            store.suspend(uuid).await?;
            tracing::info!(%uuid, "resource suspended: its sign-in, sessions and API key are refused until reactivated");
        }
        Notice::Reactivated => {
            store.reactivate(uuid).await?;
            tracing::info!(%uuid, "resource reactivated");
        }
        Notice::DeprovisioningFailed => {
            store.record_deprovision_failed(uuid).await?;
            tracing::error!(%uuid, marketplace = marketplace.as_str(), "the marketplace reports that deprovisioning the resource failed on its side");
        }
        Notice::Updated { plan, name } => {
            store.record_listing(uuid, plan.as_deref(), name.as_deref()).await?;
            tracing::info!(%uuid, plan = plan.as_deref(), "the marketplace updated the resource's plan or name");
        }
    }
    let notification = Notification { created_at, ..Notification::new(uuid, marketplace, notice) };
    let addon = core.addon.clone();
    vendor::call(core.settings.handler_timeout, "notification", async move {
        addon.notification(notification).await
    })
    .await?;
    Ok(Heard::Recorded)
}
