//! Holding a resource: the live record behind an id, with its lease taken in the registry (so
//! no other instance works on it) and this process's lock (so local requests queue instead of
//! polling the database).

use std::time::{Duration, Instant};

use super::Core;
use crate::base::answer::AddonError;
use crate::base::protocol::{check_resource_id, Marketplace};
use crate::services::locks::KeyGuard;
use crate::services::store::{ResourceRecord, ResourceState};

/// How often a request waiting for another one's claim or lease looks again.
pub(super) const POLL: Duration = Duration::from_millis(20);

/// The plan of the live resource of `marketplace` behind a path id if no operation holds its
/// lease right now (on any instance), else `None`.
///
/// One read, so an answer drawn from it is exact at that moment: a plan change in flight
/// holds the lease and sends the caller the long way, where it waits its turn.
pub(super) async fn unleased_plan<A>(
    core: &Core<A>,
    marketplace: Marketplace,
    id: &str,
) -> Result<Option<String>, AddonError> {
    if check_resource_id("id", id).is_err() {
        return Ok(None);
    }
    let summary = core.store.summary(id).await?;
    let now = core.store.now_ms();
    Ok(summary
        .filter(|summary| {
            summary.marketplace == marketplace
                && summary.state == ResourceState::Provisioned
                && summary.lease_until.is_none_or(|until| until < now)
        })
        .map(|summary| summary.plan))
}

/// The resource of `marketplace` behind a path id in one of `states`, with its lease held: 404
/// if unknown (or another marketplace's), 410 if removed, 503 if another operation on it does
/// not finish in time.
pub(super) async fn leased<A>(
    core: &Core<A>,
    marketplace: Marketplace,
    id: &str,
    states: &[ResourceState],
) -> Result<(ResourceRecord, KeyGuard), AddonError> {
    let unknown = || AddonError::unknown_resource(id);
    if check_resource_id("id", id).is_err() {
        return Err(unknown());
    }
    let summary = core.store.summary(id).await?.filter(|summary| summary.marketplace == marketplace);
    let uuid = summary.ok_or_else(unknown)?.uuid;
    let local = core.locks.lock(&uuid).await;
    let deadline = Instant::now() + core.patience();
    loop {
        let record = core.store.resource(&uuid).await?.ok_or_else(unknown)?;
        match record.state {
            ResourceState::Deprovisioned => return Err(AddonError::gone(&record.uuid)),
            ResourceState::Pending | ResourceState::Failed if !states.contains(&record.state) => {
                return Err(AddonError::still_provisioning())
            }
            state if states.contains(&state) && core.store.acquire(&uuid, state, core.lease()).await? => {
                // Read again now that nothing else can change it.
                let record = core.store.resource(&uuid).await?.ok_or_else(unknown)?;
                return Ok((record, local));
            }
            // Still provisioning, or another instance holds the lease: wait for it.
            _ if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            _ => return Err(AddonError::in_progress()),
        }
    }
}
