//! Provision: exactly once per uuid. The first request claims the uuid and calls the vendor;
//! every later one (a retry, a duplicate on another instance) gets the recorded outcome, is
//! refused (410 once deprovisioned), or waits while the claim is held.

use std::sync::Arc;
use std::time::Instant;

use super::leases::POLL;
use super::{jobs, Core};
use crate::base::answer::AddonError;
use crate::base::cipher::{field, Binding};
use crate::base::protocol::{
    check_log_drain_url, check_plan, check_resource_id, Marketplace, ProvisionBody, ProvisionRequest,
    Provisioned,
};
use crate::base::settings::Mode;
use crate::services::store::{Claim, FollowUp, JobKind, ProvisionAnswer, ResourceState};
use crate::services::vendor::{self, addon::Addon};
use addon_manifest::Requirement;

/// The outcome of a provision as the registry keeps it: replays get these bytes again.
///
/// `body` is the v3 answer (`id`, `config`, `message`, `log_drain_url`); `accepted` says it was
/// a 202 whose work goes on in the background.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) accepted: bool,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    /// The answer a settled row gives every replay: its recorded answer (a refusal if that is
    /// sealed with a key no longer configured), or 410 once deprovisioned. `None` while the uuid
    /// is being provisioned.
    fn settled(uuid: &str, answer: ProvisionAnswer) -> Option<Result<Self, AddonError>> {
        match answer.state {
            ResourceState::Provisioned | ResourceState::Pending | ResourceState::Failed => {
                Some(answer.body.map_err(AddonError::answer_sealed_away).map(|body| Recorded {
                    accepted: answer.status == Some(202),
                    body: body.unwrap_or_default().into_bytes(),
                }))
            }
            ResourceState::Deprovisioned => Some(Err(AddonError::gone(uuid))),
            ResourceState::Provisioning => None,
        }
    }
}

/// Checks the request (a declared plan, before anything else), then answers it exactly once
/// per uuid, detached from the caller.
pub(crate) async fn provision<A: Addon>(
    core: &Arc<Core<A>>,
    request: ProvisionRequest,
) -> Result<Recorded, AddonError> {
    check_resource_id("uuid", &request.uuid)
        .and_then(|()| check_plan(&request.plan))
        .map_err(|problem| AddonError::invalid_request("provision request", problem))?;
    if !A::SPEC.has_plan(&request.plan) {
        return Err(AddonError::unknown_plan(&request.plan, A::SPEC.plans));
    }
    // A replay of a settled uuid is one read: no task, no lock, no write. Its row changes only
    // by a deprovision, which a replay read a moment earlier would not have seen either.
    let known = core.store.provision_answer(&request.uuid).await?;
    let known = known.map(|answer| ours(&request, answer)).transpose()?;
    let unknown = known.is_none();
    if let Some(settled) = known.and_then(|answer| Recorded::settled(&request.uuid, answer)) {
        return settled;
    }
    // Boxed: unboxed, this work (the claim, the vendor's method, the answer's write) would be
    // part of every replay's future, which each layer of the router moves and boxes.
    let core = core.clone();
    vendor::detached(Box::pin(async move { provision_once(&core, request, unknown).await })).await
}

async fn provision_once<A: Addon>(
    core: &Arc<Core<A>>,
    request: ProvisionRequest,
    mut unknown: bool,
) -> Result<Recorded, AddonError> {
    let _local = core.locks.lock(&request.uuid).await;
    let deadline = Instant::now() + core.patience();
    loop {
        // Only a uuid with no row, or a claim whose lease expired, goes on to claim (which
        // decides any race); a settled row is answered as it is. A uuid just read as unknown
        // goes straight to its claim, which is what a second read would lead to anyway.
        let known = if std::mem::take(&mut unknown) {
            None
        } else {
            core.store.provision_answer(&request.uuid).await?
        };
        let claimable = match &known {
            None => true,
            Some(known) => {
                known.state == ResourceState::Provisioning && lease_expired(core, known.lease_until)
            }
        };
        let answer = match known {
            Some(known) if !claimable => known,
            _ => match core.store.claim_provision(&request, core.lease()).await? {
                Claim::Owned => break,
                Claim::Existing(answer) => answer,
                // One drain token names one resource: a second owner would read the first one's logs.
                Claim::DrainTokenTaken => {
                    core.store.abandon_provision(&request.uuid).await?;
                    return Err(AddonError::drain_token_taken());
                }
            },
        };
        let answer = ours(&request, answer)?;
        match Recorded::settled(&request.uuid, answer) {
            Some(settled) => return settled,
            // Another instance is provisioning this uuid right now: wait for its answer.
            None if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            None => return Err(AddonError::in_progress()),
        }
    }
    let uuid = request.uuid.clone();
    let result = call_provision(core, request).await;
    if result.is_err() {
        core.store.abandon_provision(&uuid).await?;
    }
    result
}

/// The row's answer if the row is the requesting marketplace's; a uuid another marketplace's
/// resource holds is refused (409), whatever its state.
fn ours(request: &ProvisionRequest, answer: ProvisionAnswer) -> Result<ProvisionAnswer, AddonError> {
    if answer.marketplace == request.marketplace {
        Ok(answer)
    } else {
        tracing::warn!(uuid = %request.uuid, owner = answer.marketplace.as_str(), from = request.marketplace.as_str(),
            "refused a provision whose uuid is another marketplace's resource");
        Err(AddonError::owned_elsewhere(&request.uuid))
    }
}

/// Whether a claim's lease has run out (its process died), so a claim may take it over.
fn lease_expired<A: Addon>(core: &Core<A>, lease_until: Option<i64>) -> bool {
    lease_until.is_none_or(|until| until < core.store.now_ms())
}

/// Calls the vendor, checks the answer and records it. Nothing is recorded unless all succeed.
/// A grant Heroku sent is kept (sealed) and exchanged by a job right away: it expires in
/// minutes.
async fn call_provision<A: Addon>(
    core: &Arc<Core<A>>,
    request: ProvisionRequest,
) -> Result<Recorded, AddonError> {
    let uuid = request.uuid.clone();
    let grant = request.oauth_grant.as_ref().map(|g| g.code.clone());
    let marketplace = request.marketplace;
    let synchronous_only = request.synchronous_only;
    let addon = core.addon.clone();
    let provisioned =
        vendor::call(
            core.settings.handler_timeout,
            "provision",
            async move { addon.provision(request).await },
        )
        .await?;
    if provisioned.later && synchronous_only {
        // The claim is abandoned by the caller: the platform's retry (able to wait) starts afresh.
        return Err(AddonError::osb_async_required());
    }
    let mode = core.settings.mode;
    let body = if provisioned.later {
        accepted_body(&uuid, &provisioned, mode)
    } else {
        provision_body::<A>(&uuid, &provisioned, mode)
    }
    .map_err(|problem| AddonError::vendor_bug("provision", &problem))?;
    // The grant is exchanged with the marketplace that sent it, if its client secret is set.
    let client_secret = match marketplace {
        Marketplace::DigitalOcean => &core.settings.digitalocean.client_secret,
        _ => &core.settings.oauth_client_secret,
    };
    let kind = match (provisioned.later, &grant, client_secret) {
        (true, _, _) => Some(JobKind::Provision),
        (false, Some(_), Some(_)) => Some(JobKind::Grant),
        (false, _, _) => None,
    };
    let follow_up = kind.map(|kind| FollowUp {
        sealed_grant: grant
            .as_deref()
            .map(|code| core.platform.cipher.seal(code, Binding::new(&uuid, field::GRANT_CODE))),
        ..jobs::follow_up(core, kind)
    });
    let id = provisioned.id.as_deref().unwrap_or(&uuid);
    let config =
        provisioned.config.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())).collect();
    let status = if provisioned.later { 202 } else { 200 };
    core.store.complete_provision(&uuid, id, (status, &body), &config, follow_up).await?;
    Ok(Recorded { accepted: provisioned.later, body: body.into_bytes() })
}

/// The 202 answer: an id, a message and the log drain if the vendor gave one; no config (it
/// comes through the Platform API later).
fn accepted_body(uuid: &str, provisioned: &Provisioned, mode: Mode) -> Result<String, String> {
    let id = provisioned.id.as_deref().unwrap_or(uuid);
    check_resource_id("id", id)?;
    let mut body = serde_json::json!({ "id": id, "message": provisioned.message });
    if let Some(url) = &provisioned.log_drain_url {
        check_log_drain_url(url, mode)?;
        body["log_drain_url"] = url.as_str().into();
    }
    Ok(body.to_string())
}

/// The answer, checked against the declaration: declared config vars only, URLs where URLs
/// belong, and a log drain exactly when the manifest asks for one.
fn provision_body<A: Addon>(uuid: &str, provisioned: &Provisioned, mode: Mode) -> Result<String, String> {
    provisioned.config.check(A::SPEC.config_vars)?;
    let id = provisioned.id.as_deref().unwrap_or(uuid);
    check_resource_id("id", id)?;
    let wants_drain = A::SPEC.requires_feature(Requirement::SyslogDrain);
    let log_drain_url = match (&provisioned.log_drain_url, wants_drain) {
        (Some(url), true) => Some(check_log_drain_url(url, mode).map(|()| url.as_str())?),
        (None, true) => {
            return Err("the manifest requires `syslog_drain` but no log_drain_url was returned".into())
        }
        (Some(_), false) => {
            tracing::warn!(
                "a log_drain_url was returned without `requires = [\"syslog_drain\"]`; it was left out"
            );
            None
        }
        (None, false) => None,
    };
    let body = ProvisionBody {
        id,
        config: &provisioned.config,
        message: provisioned.message.as_deref(),
        log_drain_url,
    };
    serde_json::to_string(&body).map_err(|e| e.to_string())
}
