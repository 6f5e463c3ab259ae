//! Service instances: provision, update, deprovision, fetch and `last_operation`, mapped onto
//! the lifecycle core. The lifecycle decides what happens to a resource (once per id, under its
//! lease); this module decides what the OSB API answers about it: 201 for a new instance, 200 for
//! a repeat with identical attributes, 409 for different ones, 202 with an `operation` while a
//! job finishes it, 410 `{}` for an instance that is gone.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::ORIGINATING_IDENTITY_HEADER;
use super::broker::Broker;
use super::reply;
use crate::base::answer::AddonError;
use crate::base::protocol::{check_resource_id, Marketplace, OriginatingIdentity, ProvisionRequest};
use crate::lifecycle::{deprovision, plan_change, provision};
use crate::services::store::{JobStanding, OsbInstance, ResourceState};
use crate::services::vendor::addon::Addon;
use crate::web::extract::Path;

/// The operation names `last_operation` is polled with.
const PROVISION: &str = "provision";
const UPDATE: &str = "update";
const DEPROVISION: &str = "deprovision";

#[derive(Deserialize)]
struct ProvisionBody {
    service_id: String,
    plan_id: String,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    context: Option<Value>,
}

#[derive(Deserialize)]
struct UpdateBody {
    service_id: String,
    #[serde(default)]
    plan_id: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
}

/// The query of a DELETE or a poll: ids as the platform sent them, and `accepts_incomplete`.
#[derive(Deserialize, Default)]
pub(crate) struct Query {
    #[serde(default)]
    pub(crate) service_id: Option<String>,
    #[serde(default)]
    pub(crate) plan_id: Option<String>,
    #[serde(default)]
    pub(crate) accepts_incomplete: Option<String>,
    #[serde(default)]
    pub(crate) operation: Option<String>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Query, AddonError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|e| AddonError::osb_bad_request(format!("the query string: {e}")))
    }

    /// `accepts_incomplete=true`; anything else (absent, `false`) means the platform cannot poll.
    pub(crate) fn accepts_incomplete(&self) -> Result<bool, AddonError> {
        match self.accepts_incomplete.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(AddonError::osb_bad_request(format!(
                "`accepts_incomplete` is `{other}`; use `true` or `false`"
            ))),
        }
    }
}

/// A JSON body the OSB way: malformed or missing fields are a 400.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    what: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AddonError> {
    let body = body.map_err(|_| AddonError::body_unreadable())?;
    if body.is_empty() {
        return Err(AddonError::osb_bad_request(format!("the {what} body is empty; send a JSON object")));
    }
    serde_json::from_slice(&body).map_err(|e| AddonError::osb_bad_request(format!("the {what} body: {e}")))
}

/// An instance or binding id from the path: one the registry can key on (a GUID, in practice).
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), AddonError> {
    check_resource_id(what, id).map_err(AddonError::osb_bad_request)
}

/// Parameters must be a JSON object when sent; kept as canonical text (keys sorted).
fn parameters_text(parameters: Option<&Value>) -> Result<String, AddonError> {
    match parameters {
        None | Some(Value::Null) => Ok("{}".to_owned()),
        Some(object @ Value::Object(_)) => Ok(object.to_string()),
        Some(_) => Err(AddonError::osb_bad_request("`parameters` must be a JSON object")),
    }
}

/// `PUT /v2/service_instances/{instance_id}`.
pub(crate) async fn provision<A: Addon>(
    State(broker): State<Broker<A>>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply::answer(provide(&broker, instance_id, query.as_deref(), &headers, body).await)
}

async fn provide<A: Addon>(
    broker: &Broker<A>,
    instance_id: String,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AddonError> {
    check_id("instance id", &instance_id)?;
    let accepts_incomplete = Query::parse(query)?.accepts_incomplete()?;
    let body: ProvisionBody = parse_body("provision", body)?;
    broker.check_service(&body.service_id)?;
    let plan = broker.plan_slug(&body.plan_id)?;
    let wanted = OsbInstance {
        service_id: body.service_id.clone(),
        plan_id: body.plan_id.clone(),
        parameters: parameters_text(body.parameters.as_ref())?,
    };
    let store = &broker.core.store;
    // A resource another marketplace provisioned keeps its id: this one cannot claim it.
    let existing = store.resource(&instance_id).await?;
    if existing.is_some_and(|r| r.uuid == instance_id && r.marketplace != Marketplace::OpenServiceBroker) {
        return Err(AddonError::osb_instance_conflict(&instance_id));
    }
    let (recorded, inserted) = store.claim_osb_instance(&instance_id, &wanted).await?;
    if recorded != wanted {
        return Err(AddonError::osb_instance_conflict(&instance_id));
    }
    let mut request =
        ProvisionRequest::new(instance_id.clone(), plan).with_marketplace(Marketplace::OpenServiceBroker);
    request.options = options(body.parameters.as_ref());
    request.name = body
        .context
        .as_ref()
        .and_then(|c| c.get("instance_name"))
        .and_then(Value::as_str)
        .map(|name| name.chars().take(255).collect());
    request.originating_identity = originating_identity(headers);
    request.synchronous_only = !accepts_incomplete;
    let outcome = provision::provision(&broker.core, request).await;
    let recorded = match outcome {
        Ok(recorded) => recorded,
        Err(error) => {
            if inserted {
                store.forget_osb_instance(&instance_id).await?;
            }
            // A deprovisioned instance's id is never provisioned again.
            return Err(if error.status() == StatusCode::GONE {
                AddonError::osb_instance_conflict(&instance_id)
            } else {
                error
            });
        }
    };
    let dashboard_url = broker.dashboard_url(&instance_id);
    // A repeat of a background provision that has finished since is an ordinary repeat.
    let still_running = recorded.accepted
        && !store.resource(&instance_id).await?.is_some_and(|r| r.state == ResourceState::Provisioned);
    if still_running {
        if !accepts_incomplete {
            // A repeat of a provision still under way, from a platform that cannot poll.
            return Err(AddonError::osb_async_required());
        }
        let body = json!({ "dashboard_url": dashboard_url, "operation": PROVISION });
        return Ok(reply::json_response(StatusCode::ACCEPTED, &body));
    }
    let status = if inserted { StatusCode::CREATED } else { StatusCode::OK };
    Ok(reply::json_response(status, &json!({ "dashboard_url": dashboard_url })))
}

/// The vendor's `options`: each parameter as a string (JSON text for anything but a string).
fn options(parameters: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    let empty = Map::new();
    let object = parameters.and_then(Value::as_object).unwrap_or(&empty);
    object
        .iter()
        .map(|(key, value)| match value {
            Value::String(s) => (key.clone(), s.clone()),
            other => (key.clone(), other.to_string()),
        })
        .collect()
}

pub(crate) fn originating_identity(headers: &HeaderMap) -> Option<OriginatingIdentity> {
    let header = headers.get(ORIGINATING_IDENTITY_HEADER)?.to_str().ok()?;
    let identity = OriginatingIdentity::parse(header);
    if identity.is_none() {
        tracing::info!("an X-Broker-API-Originating-Identity header did not parse; it was ignored");
    }
    identity
}

/// `PATCH /v2/service_instances/{instance_id}`: a plan change through the lifecycle.
pub(crate) async fn update<A: Addon>(
    State(broker): State<Broker<A>>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply::answer(change(&broker, instance_id, query.as_deref(), body).await)
}

async fn change<A: Addon>(
    broker: &Broker<A>,
    instance_id: String,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AddonError> {
    check_id("instance id", &instance_id)?;
    let accepts_incomplete = Query::parse(query)?.accepts_incomplete()?;
    let body: UpdateBody = parse_body("update", body)?;
    broker.check_service(&body.service_id)?;
    parameters_text(body.parameters.as_ref())?;
    let Some((instance, record)) = broker.instance(&instance_id).await? else {
        return Err(AddonError::osb_unknown_instance(&instance_id));
    };
    match record.state {
        ResourceState::Provisioned => {}
        ResourceState::Deprovisioned => return Err(AddonError::osb_unknown_instance(&instance_id)),
        _ => return Err(AddonError::osb_concurrency()),
    }
    let Some(plan_id) = body.plan_id.filter(|id| *id != instance.plan_id) else {
        // Parameters alone change nothing the vendor's methods see: the update is a no-op.
        return Ok(reply::json_response(StatusCode::OK, &json!({})));
    };
    let plan = broker.plan_slug(&plan_id)?;
    let outcome = plan_change::change_plan_with(
        &broker.core,
        Marketplace::OpenServiceBroker,
        instance_id.clone(),
        plan.to_owned(),
        !accepts_incomplete,
    )
    .await
    .map_err(|error| {
        if error.status() == StatusCode::SERVICE_UNAVAILABLE {
            AddonError::osb_concurrency()
        } else {
            error
        }
    })?;
    broker.core.store.set_osb_plan(&instance_id, &plan_id).await?;
    if outcome.accepted && accepts_incomplete {
        return Ok(reply::json_response(StatusCode::ACCEPTED, &json!({ "operation": UPDATE })));
    }
    Ok(reply::json_response(StatusCode::OK, &json!({ "dashboard_url": broker.dashboard_url(&instance_id) })))
}

/// `DELETE /v2/service_instances/{instance_id}?service_id=..&plan_id=..`.
pub(crate) async fn deprovision<A: Addon>(
    State(broker): State<Broker<A>>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    reply::answer(remove(&broker, instance_id, query.as_deref()).await)
}

async fn remove<A: Addon>(
    broker: &Broker<A>,
    instance_id: String,
    query: Option<&str>,
) -> Result<Response, AddonError> {
    check_id("instance id", &instance_id)?;
    let query = Query::parse(query)?;
    let accepts_incomplete = query.accepts_incomplete()?;
    let (Some(service_id), Some(plan_id)) = (&query.service_id, &query.plan_id) else {
        return Err(AddonError::osb_bad_request(
            "a deprovision needs `service_id` and `plan_id` in its query",
        ));
    };
    broker.check_service(service_id)?;
    broker.plan_slug(plan_id)?;
    let Some((_, record)) = broker.instance(&instance_id).await? else { return Ok(reply::gone()) };
    let store = &broker.core.store;
    if record.state == ResourceState::Deprovisioned {
        // Gone, or still being removed by its job.
        return Ok(match store.job_standing(&instance_id, "deprovision").await? {
            Some(JobStanding::Running) => {
                reply::json_response(StatusCode::ACCEPTED, &json!({ "operation": DEPROVISION }))
            }
            _ => reply::gone(),
        });
    }
    let deprovisioned =
        match deprovision::deprovision(&broker.core, Marketplace::OpenServiceBroker, instance_id.clone())
            .await
        {
            Ok(deprovisioned) => deprovisioned,
            Err(error) if error.status() == StatusCode::GONE || error.status() == StatusCode::NOT_FOUND => {
                return Ok(reply::gone())
            }
            Err(error) if error.status() == StatusCode::SERVICE_UNAVAILABLE => {
                return Err(AddonError::osb_concurrency())
            }
            Err(error) => return Err(error),
        };
    store.remove_osb_instance(&instance_id).await?;
    match (deprovisioned.later.is_some(), accepts_incomplete) {
        (false, _) => Ok(reply::json_response(StatusCode::OK, &json!({}))),
        (true, true) => Ok(reply::json_response(StatusCode::ACCEPTED, &json!({ "operation": DEPROVISION }))),
        // Begun, and it goes on: the platform's retry with `accepts_incomplete=true` gets 202
        // while the job runs and 410 once it is done.
        (true, false) => Err(AddonError::osb_async_required()),
    }
}

/// `GET /v2/service_instances/{instance_id}`: a provisioned instance as it was asked for.
pub(crate) async fn fetch<A: Addon>(
    State(broker): State<Broker<A>>,
    Path(instance_id): Path<String>,
) -> Response {
    reply::answer(
        async {
            check_id("instance id", &instance_id)?;
            match broker.instance(&instance_id).await? {
                Some((instance, record)) if record.state == ResourceState::Provisioned => {
                    let parameters: Value =
                        serde_json::from_str(&instance.parameters).unwrap_or_else(|_| json!({}));
                    let body = json!({
                        "service_id": instance.service_id,
                        "plan_id": instance.plan_id,
                        "dashboard_url": broker.dashboard_url(&instance_id),
                        "parameters": parameters,
                    });
                    Ok(reply::json_response(StatusCode::OK, &body))
                }
                _ => Err(AddonError::osb_unknown_instance(&instance_id)),
            }
        }
        .await,
    )
}

/// `GET /v2/service_instances/{instance_id}/last_operation`: from the registry's state and the
/// resource's jobs, whichever operation the platform names (it polls the latest).
pub(crate) async fn last_operation<A: Addon>(
    State(broker): State<Broker<A>>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    reply::answer(poll(&broker, instance_id, query.as_deref()).await)
}

async fn poll<A: Addon>(
    broker: &Broker<A>,
    instance_id: String,
    query: Option<&str>,
) -> Result<Response, AddonError> {
    check_id("instance id", &instance_id)?;
    let query = Query::parse(query)?;
    if let Some(service_id) = &query.service_id {
        broker.check_service(service_id)?;
    }
    let Some((_, record)) = broker.instance(&instance_id).await? else { return Ok(reply::gone()) };
    let store = &broker.core.store;
    let (state, description) = match record.state {
        ResourceState::Provisioning | ResourceState::Pending => {
            ("in progress", "The service instance is being created.")
        }
        ResourceState::Failed => {
            ("failed", "The service instance could not be created; delete it to clean up.")
        }
        ResourceState::Provisioned => match store.job_standing(&instance_id, "plan_change").await? {
            Some(JobStanding::Running) if query.operation.as_deref() != Some(PROVISION) => {
                ("in progress", "The service instance is changing plan.")
            }
            _ => ("succeeded", "The service instance is ready."),
        },
        ResourceState::Deprovisioned => match store.job_standing(&instance_id, "deprovision").await? {
            Some(JobStanding::Running) => ("in progress", "The service instance is being deleted."),
            Some(JobStanding::Failed) => ("failed", "The service instance could not be deleted completely."),
            _ => return Ok(reply::gone()),
        },
    };
    Ok(reply::json_response(StatusCode::OK, &json!({ "state": state, "description": description })))
}
