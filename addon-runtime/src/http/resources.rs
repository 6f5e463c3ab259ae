//! Provision, plan change and deprovision: the three calls Heroku makes with Basic auth.
//!
//! Heroku delivers each call at least once. Every call therefore goes through the registry
//! before it reaches the vendor: a provision claims its uuid (or finds the recorded answer), a
//! plan change or deprovision takes the resource's lease. Work runs detached from the client's
//! connection, so a claim or lease is always completed or undone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, vendor};
use crate::app::Shared;
use crate::locks::KeyGuard;
use crate::protocol::request::{check_plan, check_resource_id, PlanChangeBody as PlanChangeInput};
use crate::protocol::response::{check_log_drain_url, PlanChangeBody, ProvisionBody};
use crate::store::{Claim, FollowUp, JobKind, ResourceRecord, ResourceState};
use crate::{
    Addon, AddonError, DeprovisionRequest, Mode, PlanChangeRequest, ProvisionRequest, Provisioned,
    Requirement,
};

/// How often a request waiting for another one's claim or lease looks again.
const POLL: Duration = Duration::from_millis(20);

/// `POST {base_path}`.
pub(crate) async fn provision<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: ProvisionRequest = match json::parse("provision request", &headers, body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(message) = check_resource_id("uuid", &request.uuid).and_then(|()| check_plan(&request.plan)) {
        return json::refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The provision request is not valid: {message}."),
        )
        .into_response();
    }
    vendor::detached(async move {
        provision_once(&shared, request).await.unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

/// Answers a provision exactly once per uuid: replays, refusals and waits come from the record.
async fn provision_once<A: Addon>(
    shared: &Arc<Shared<A>>,
    request: ProvisionRequest,
) -> Result<Response, AddonError> {
    let _local = shared.locks.lock(&request.uuid).await;
    let deadline = Instant::now() + shared.patience();
    loop {
        match shared.store.claim_provision(&request, shared.lease()).await? {
            Claim::Owned => break,
            Claim::Existing(record) => match record.state {
                ResourceState::Provisioned | ResourceState::Pending | ResourceState::Failed => {
                    return Ok(replay(*record))
                }
                ResourceState::Deprovisioned => return Err(gone(&record.uuid)),
                // Another instance is provisioning this uuid right now: wait for its answer.
                ResourceState::Provisioning if Instant::now() < deadline => tokio::time::sleep(POLL).await,
                ResourceState::Provisioning => return Err(in_progress()),
            },
        }
    }
    let uuid = request.uuid.clone();
    let result = call_provision(shared, request).await;
    if result.is_err() {
        shared.store.abandon_provision(&uuid).await?;
    }
    result
}

/// Calls the vendor, checks the answer and records it. Nothing is recorded unless all succeed.
/// A grant Heroku sent is kept (sealed) and exchanged by a job right away: it expires in
/// minutes.
async fn call_provision<A: Addon>(
    shared: &Arc<Shared<A>>,
    request: ProvisionRequest,
) -> Result<Response, AddonError> {
    let uuid = request.uuid.clone();
    let grant = request.oauth_grant.as_ref().map(|g| g.code.clone());
    let addon = shared.addon.clone();
    let provisioned =
        vendor::call(
            shared.settings.handler_timeout,
            "provision",
            async move { addon.provision(request).await },
        )
        .await?;
    let (status, body) = if provisioned.later {
        (
            StatusCode::ACCEPTED,
            accepted_body(&uuid, &provisioned, shared.settings.mode)
                .map_err(|p| vendor::bug("provision", &p))?,
        )
    } else {
        let body = provision_body::<A>(&uuid, &provisioned, shared.settings.mode)
            .map_err(|p| vendor::bug("provision", &p))?;
        (StatusCode::OK, body)
    };
    let kind = match (provisioned.later, &grant, &shared.settings.oauth_client_secret) {
        (true, _, _) => Some(JobKind::Provision),
        (false, Some(_), Some(_)) => Some(JobKind::Grant),
        (false, _, _) => None,
    };
    let follow_up = kind.map(|kind| FollowUp {
        sealed_grant: grant.as_deref().map(|code| shared.platform.cipher.seal(code)),
        ..FollowUp::new(kind, shared.clock.now_ms())
    });
    let id = provisioned.id.as_deref().unwrap_or(&uuid);
    let config =
        provisioned.config.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())).collect();
    shared.store.complete_provision(&uuid, id, (status.as_u16(), &body), &config, follow_up).await?;
    Ok(json::raw(status, body.into_bytes()))
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

/// The answer to Heroku, checked against the manifest: declared config vars only, URLs where
/// URLs belong, and a log drain exactly when the manifest asks for one.
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

/// The recorded answer, status and body, byte for byte.
fn replay(record: ResourceRecord) -> Response {
    let status = record
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    json::raw(status, record.response.unwrap_or_default().into_bytes())
}

/// `PUT {base_path}/{id}`.
pub(crate) async fn plan_change<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let input: PlanChangeInput = match json::parse("plan change request", &headers, body) {
        Ok(input) => input,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(message) = check_plan(&input.plan) {
        return json::refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The plan change request is not valid: {message}."),
        )
        .into_response();
    }
    vendor::detached(async move {
        plan_change_once(&shared, &id, input.plan).await.unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn plan_change_once<A: Addon>(
    shared: &Arc<Shared<A>>,
    id: &str,
    plan: String,
) -> Result<Response, AddonError> {
    let (record, _local) = leased(shared, id, &[ResourceState::Provisioned]).await?;
    if record.plan == plan {
        shared.store.release(&record.uuid).await?;
        tracing::info!(uuid = %record.uuid, %plan, "plan change to the current plan: nothing to do");
        let message = format!("The add-on is already on the {plan} plan.");
        return Ok(json::json(StatusCode::OK, &PlanChangeBody { config: None, message: Some(&message) }));
    }
    let request = PlanChangeRequest::new(record.uuid.clone(), plan.clone(), record.plan.clone());
    let addon = shared.addon.clone();
    let called = vendor::call(shared.settings.handler_timeout, "plan_change", async move {
        addon.plan_change(request).await
    })
    .await
    .and_then(|changed| match changed.config.as_ref().map(|c| c.check(A::SPEC.config_vars)) {
        Some(Err(problem)) => Err(vendor::bug("plan_change", &problem)),
        _ => Ok(changed),
    });
    let changed = match called {
        Ok(changed) => changed,
        Err(error) => {
            shared.store.release(&record.uuid).await?;
            return Err(error);
        }
    };
    let mut config = record.config;
    if let Some(new) = &changed.config {
        config.extend(new.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())));
    }
    let follow_up = changed.later.then(|| FollowUp {
        payload: serde_json::json!({ "previous_plan": record.plan }),
        ..FollowUp::new(JobKind::PlanChange, shared.clock.now_ms())
    });
    shared.store.change_plan(&record.uuid, &plan, &config, follow_up).await?;
    let body = PlanChangeBody { config: changed.config.as_ref(), message: changed.message.as_deref() };
    let status = if changed.later { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok(json::json(status, &body))
}

/// `DELETE {base_path}/{id}`.
pub(crate) async fn deprovision<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    Path(id): Path<String>,
) -> Response {
    vendor::detached(async move {
        deprovision_once(&shared, &id).await.unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

async fn deprovision_once<A: Addon>(shared: &Arc<Shared<A>>, id: &str) -> Result<Response, AddonError> {
    // A resource still being provisioned (or whose provisioning failed) can be removed too.
    let states = [ResourceState::Provisioned, ResourceState::Pending, ResourceState::Failed];
    let (record, _local) = leased(shared, id, &states).await?;
    let request = DeprovisionRequest::new(record.uuid.clone(), record.plan.clone());
    let addon = shared.addon.clone();
    let called = vendor::call(shared.settings.handler_timeout, "deprovision", async move {
        addon.deprovision(request).await
    })
    .await;
    match called {
        Ok(deprovisioned) => {
            let now = shared.clock.now_ms();
            let follow_up = deprovisioned.later.is_some().then(|| FollowUp::new(JobKind::Deprovision, now));
            shared.store.mark_deprovisioned(&record.uuid, follow_up, now).await?;
            Ok(match &deprovisioned.later {
                Some(message) => json::json(StatusCode::ACCEPTED, &serde_json::json!({ "message": message })),
                None => StatusCode::NO_CONTENT.into_response(),
            })
        }
        Err(error) => {
            shared.store.release(&record.uuid).await?;
            Err(error)
        }
    }
}

/// The live resource behind a path id, with its lease held (and this process's lock, so local
/// requests for it queue instead of polling): 404 if unknown, 410 if removed, 503 if another
/// operation on it does not finish in time.
async fn leased<A: Addon>(
    shared: &Shared<A>,
    id: &str,
    states: &[ResourceState],
) -> Result<(ResourceRecord, KeyGuard), AddonError> {
    let unknown = || AddonError::not_found(format!("No add-on resource `{id}` exists here."));
    if check_resource_id("id", id).is_err() {
        return Err(unknown());
    }
    let uuid = shared.store.resource(id).await?.ok_or_else(unknown)?.uuid;
    let local = shared.locks.lock(&uuid).await;
    let deadline = Instant::now() + shared.patience();
    loop {
        let record = shared.store.resource(&uuid).await?.ok_or_else(unknown)?;
        match record.state {
            ResourceState::Deprovisioned => return Err(gone(&record.uuid)),
            ResourceState::Pending | ResourceState::Failed if !states.contains(&record.state) => {
                return Err(AddonError::new(
                    "This add-on is still being provisioned; change its plan once it is ready.",
                ))
            }
            state
                if states.contains(&state) && shared.store.acquire(&uuid, state, shared.lease()).await? =>
            {
                // Read again now that nothing else can change it.
                let record = shared.store.resource(&uuid).await?.ok_or_else(unknown)?;
                return Ok((record, local));
            }
            // Still provisioning, or another instance holds the lease: wait for it.
            _ if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            _ => return Err(in_progress()),
        }
    }
}

fn gone(uuid: &str) -> AddonError {
    json::refuse(
        StatusCode::GONE,
        format!("The add-on resource `{uuid}` was deprovisioned; provision a new one instead."),
    )
}

/// Another request for the same resource is still running: 503, which Heroku retries.
fn in_progress() -> AddonError {
    AddonError::unavailable(
        "Another request for this add-on resource is still in progress. Please try again.",
    )
}
