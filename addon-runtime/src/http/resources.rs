//! Provision, plan change and deprovision: the three calls Heroku makes with Basic auth.
//!
//! Each call takes the resource's lock, consults the registry, and only then reaches the
//! vendor, so re-delivered and concurrent requests are answered from the record.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, vendor};
use crate::app::Shared;
use crate::protocol::request::{check_plan, check_resource_id, PlanChangeBody as PlanChangeInput};
use crate::protocol::response::{check_log_drain_url, PlanChangeBody, ProvisionBody};
use crate::registry::{KeyGuard, Resource, State as ResourceState};
use crate::{
    Addon, AddonError, DeprovisionRequest, Mode, PlanChangeRequest, ProvisionRequest, Provisioned,
    Requirement,
};

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
    if let Err(message) =
        check_resource_id("uuid", &request.uuid).and_then(|()| check_plan(&request.plan))
    {
        return json::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("The provision request is not valid: {message}."),
        );
    }
    let _lock = shared.registry.lock(&request.uuid).await;
    if let Some(existing) = shared.registry.find(&request.uuid) {
        return match existing.state {
            ResourceState::Deprovisioned => gone(&existing.uuid).into_response(),
            ResourceState::Provisioned => json::raw(StatusCode::OK, existing.response),
        };
    }
    let uuid = request.uuid.clone();
    let plan = request.plan.clone();
    let provisioned = match vendor::call(
        shared.settings.handler_timeout,
        "provision",
        shared.addon.provision(request),
    )
    .await
    {
        Ok(provisioned) => provisioned,
        Err(error) => return error.into_response(),
    };
    let body = match provision_body::<A>(&uuid, &provisioned, shared.settings.mode) {
        Ok(body) => body,
        Err(problem) => return vendor::bug("provision", &problem),
    };
    let id = provisioned.id.unwrap_or_else(|| uuid.clone());
    shared.registry.insert(Resource {
        uuid,
        id,
        plan,
        state: ResourceState::Provisioned,
        response: body.clone(),
    });
    json::raw(StatusCode::OK, body)
}

/// The answer to Heroku, checked against the manifest: declared config vars only, URLs where
/// URLs belong, and a log drain exactly when the manifest asks for one.
fn provision_body<A: Addon>(
    uuid: &str,
    provisioned: &Provisioned,
    mode: Mode,
) -> Result<Vec<u8>, String> {
    provisioned.config.check(A::SPEC.config_vars)?;
    let id = provisioned.id.as_deref().unwrap_or(uuid);
    check_resource_id("id", id)?;
    let wants_drain = A::SPEC.requires_feature(Requirement::SyslogDrain);
    let log_drain_url = match (&provisioned.log_drain_url, wants_drain) {
        (Some(url), true) => Some(check_log_drain_url(url, mode).map(|()| url.as_str())?),
        (None, true) => {
            return Err(
                "the manifest requires `syslog_drain` but no log_drain_url was returned".into(),
            )
        }
        (Some(_), false) => {
            tracing::warn!("a log_drain_url was returned without `requires = [\"syslog_drain\"]`; it was left out");
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
    serde_json::to_vec(&body).map_err(|e| e.to_string())
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
        return json::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("The plan change request is not valid: {message}."),
        );
    }
    let (resource, _lock) = match locked(&shared, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    if resource.plan == input.plan {
        tracing::info!(uuid = %resource.uuid, plan = %input.plan, "plan change to the current plan: nothing to do");
        let message = format!("The add-on is already on the {} plan.", input.plan);
        return json::json(
            StatusCode::OK,
            &PlanChangeBody {
                config: None,
                message: Some(&message),
            },
        );
    }
    let request = PlanChangeRequest::new(resource.uuid.clone(), input.plan.clone(), resource.plan);
    let changed = match vendor::call(
        shared.settings.handler_timeout,
        "plan_change",
        shared.addon.plan_change(request),
    )
    .await
    {
        Ok(changed) => changed,
        Err(error) => return error.into_response(),
    };
    if let Some(Err(problem)) = changed
        .config
        .as_ref()
        .map(|c| c.check(A::SPEC.config_vars))
    {
        return vendor::bug("plan_change", &problem);
    }
    shared.registry.set_plan(&resource.uuid, &input.plan);
    json::json(
        StatusCode::OK,
        &PlanChangeBody {
            config: changed.config.as_ref(),
            message: changed.message.as_deref(),
        },
    )
}

/// `DELETE {base_path}/{id}`.
pub(crate) async fn deprovision<A: Addon>(
    State(shared): State<Arc<Shared<A>>>,
    Path(id): Path<String>,
) -> Response {
    let (resource, _lock) = match locked(&shared, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let request = DeprovisionRequest::new(resource.uuid.clone(), resource.plan);
    match vendor::call(
        shared.settings.handler_timeout,
        "deprovision",
        shared.addon.deprovision(request),
    )
    .await
    {
        Ok(()) => {
            shared.registry.mark_deprovisioned(&resource.uuid);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// The live resource behind a path id, with its lock held: 404 if unknown, 410 if removed.
async fn locked<A: Addon>(
    shared: &Shared<A>,
    id: &str,
) -> Result<(Resource, KeyGuard), AddonError> {
    let unknown = || AddonError::not_found(format!("No add-on resource `{id}` exists here."));
    if check_resource_id("id", id).is_err() {
        return Err(unknown());
    }
    let uuid = shared.registry.find(id).ok_or_else(unknown)?.uuid;
    let lock = shared.registry.lock(&uuid).await;
    // Read again under the lock: a deprovision may have finished while this request waited.
    let resource = shared.registry.find(&uuid).ok_or_else(unknown)?;
    match resource.state {
        ResourceState::Provisioned => Ok((resource, lock)),
        ResourceState::Deprovisioned => Err(gone(&resource.uuid)),
    }
}

fn gone(uuid: &str) -> AddonError {
    json::refuse(
        StatusCode::GONE,
        format!("The add-on resource `{uuid}` was deprovisioned; provision a new one instead."),
    )
}
