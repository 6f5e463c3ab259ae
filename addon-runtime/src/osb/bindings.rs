//! Service bindings: the credentials an app gets, at bind time. The vendor's `#[bind]` makes them
//! (by default, the resource's config as it stands) once per binding id: the id is claimed in the
//! registry first, so a repeated or concurrent bind never calls the vendor twice; the credentials
//! are recorded (sealed) with the binding, and a repeated bind gets them again. A bind with other
//! attributes under the same id is a 409; `#[unbind]` revokes before the record goes.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::broker::Broker;
use super::instances::{check_id, parse_body, Query};
use super::reply;
use crate::base::answer::AddonError;
use crate::base::protocol::{BindRequest, Marketplace, UnbindRequest};
use crate::services::store::{OsbBinding, ResourceState};
use crate::services::vendor::{self, addon::Addon};
use crate::web::extract::Path;

#[derive(Deserialize)]
struct BindBody {
    service_id: String,
    plan_id: String,
    #[serde(default)]
    bind_resource: Option<Value>,
    #[serde(default)]
    parameters: Option<Value>,
}

/// `PUT /v2/service_instances/{instance_id}/service_bindings/{binding_id}`.
pub(crate) async fn bind<A: Addon>(
    State(broker): State<Broker<A>>,
    Path((instance_id, binding_id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply::answer(bind_once(&broker, instance_id, binding_id, body).await)
}

async fn bind_once<A: Addon>(
    broker: &Broker<A>,
    instance_id: String,
    binding_id: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AddonError> {
    check_id("instance id", &instance_id)?;
    check_id("binding id", &binding_id)?;
    let body: BindBody = parse_body("bind", body)?;
    broker.check_service(&body.service_id)?;
    broker.plan_slug(&body.plan_id)?;
    if !broker.catalog.bindable {
        return Err(AddonError::osb_not_bindable());
    }
    if !matches!(body.parameters, None | Some(Value::Null) | Some(Value::Object(_))) {
        return Err(AddonError::osb_bad_request("`parameters` must be a JSON object"));
    }
    let Some((_, record)) = broker.instance(&instance_id).await? else {
        return Err(AddonError::osb_unknown_instance(&instance_id));
    };
    match record.state {
        ResourceState::Provisioned => {}
        ResourceState::Deprovisioned => return Err(AddonError::osb_unknown_instance(&instance_id)),
        _ => return Err(AddonError::osb_concurrency()),
    }
    let app_guid = body.bind_resource.as_ref().and_then(|r| r.get("app_guid")).and_then(Value::as_str);
    let app_guid = app_guid.map(str::to_owned);
    let parameters = body.parameters.clone();
    let attributes = json!({
        "bind_resource": body.bind_resource.unwrap_or(Value::Null),
        "parameters": body.parameters.unwrap_or(Value::Null),
    })
    .to_string();
    let wanted = OsbBinding {
        uuid: instance_id.clone(),
        service_id: body.service_id,
        plan_id: body.plan_id,
        attributes,
        credentials: String::new(),
    };
    let core = broker.core.clone();
    // A claim that outlived its process's vendor call (and the margin of a lease) is taken over.
    let stale_ms = i64::try_from(core.lease().as_millis()).unwrap_or(i64::MAX);
    if let Some(recorded) = core.store.claim_osb_binding(&binding_id, &wanted, stale_ms).await? {
        return answer_recorded(&binding_id, &wanted, &recorded);
    }
    let request = BindRequest {
        uuid: record.uuid.clone(),
        binding_id: binding_id.clone(),
        plan: record.plan.clone().into(),
        parameters: as_strings(parameters),
        app_guid,
        config: record.config.clone(),
        marketplace: Marketplace::OpenServiceBroker,
    };
    // Detached: a platform that hangs up does not leave the claim half made.
    let credentials = vendor::detached(async move {
        let addon = core.addon.clone();
        let made =
            vendor::call(core.settings.handler_timeout, "bind", async move { addon.bind(request).await })
                .await
                .and_then(|credentials| {
                    serde_json::to_string(&credentials.into_map()).map_err(AddonError::unencodable)
                });
        match made {
            Ok(credentials) => {
                core.store.complete_osb_binding(&binding_id, &credentials).await?;
                Ok(credentials)
            }
            Err(error) => {
                core.store.abandon_osb_binding(&binding_id).await?;
                Err(error)
            }
        }
    })
    .await?;
    let credentials: Value = serde_json::from_str(&credentials).unwrap_or_else(|_| json!({}));
    Ok(reply::json_response(StatusCode::CREATED, &json!({ "credentials": credentials })))
}

/// The answer to a bind whose id is on record: the same credentials for the same attributes
/// (200), a conflict for other ones (409), or a concurrency error while its first bind is under
/// way (422).
fn answer_recorded(
    binding_id: &str,
    wanted: &OsbBinding,
    recorded: &OsbBinding,
) -> Result<Response, AddonError> {
    let same = recorded.uuid == wanted.uuid
        && recorded.service_id == wanted.service_id
        && recorded.plan_id == wanted.plan_id
        && recorded.attributes == wanted.attributes;
    if !same {
        return Err(AddonError::osb_binding_conflict(binding_id));
    }
    if recorded.credentials.is_empty() {
        return Err(AddonError::osb_concurrency());
    }
    let credentials: Value = serde_json::from_str(&recorded.credentials).unwrap_or_else(|_| json!({}));
    Ok(reply::json_response(StatusCode::OK, &json!({ "credentials": credentials })))
}

/// A bind's `parameters` as the vendor sees them: strings, other JSON as its text.
fn as_strings(parameters: Option<Value>) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = parameters else { return BTreeMap::new() };
    map.into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => (key, text),
            other => (key, other.to_string()),
        })
        .collect()
}

/// `DELETE .../service_bindings/{binding_id}?service_id=..&plan_id=..`.
pub(crate) async fn unbind<A: Addon>(
    State(broker): State<Broker<A>>,
    Path((instance_id, binding_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    reply::answer(
        async {
            check_id("instance id", &instance_id)?;
            check_id("binding id", &binding_id)?;
            let query = Query::parse(query.as_deref())?;
            let (Some(service_id), Some(plan_id)) = (&query.service_id, &query.plan_id) else {
                return Err(AddonError::osb_bad_request(
                    "an unbind needs `service_id` and `plan_id` in its query",
                ));
            };
            broker.check_service(service_id)?;
            broker.plan_slug(plan_id)?;
            let binding = broker.core.store.osb_binding(&binding_id).await?.filter(|b| b.uuid == instance_id);
            let Some(binding) = binding else { return Ok(reply::gone()) };
            if binding.credentials.is_empty() {
                return Err(AddonError::osb_concurrency());
            }
            let request = UnbindRequest {
                uuid: instance_id.clone(),
                binding_id: binding_id.clone(),
                plan: broker.plan_slug(&binding.plan_id).unwrap_or_default().into(),
                marketplace: Marketplace::OpenServiceBroker,
            };
            let core = broker.core.clone();
            // Revoked first: a failure keeps the record, and the platform's retry revokes again.
            let removed =
                vendor::detached(async move {
                    let addon = core.addon.clone();
                    vendor::call(core.settings.handler_timeout, "unbind", async move {
                        addon.unbind(request).await
                    })
                    .await?;
                    Ok(core.store.remove_osb_binding(&instance_id, &binding_id).await?)
                })
                .await?;
            Ok(if removed { reply::json_response(StatusCode::OK, &json!({})) } else { reply::gone() })
        }
        .await,
    )
}

/// `GET .../service_bindings/{binding_id}`: the binding's credentials and parameters.
pub(crate) async fn fetch<A: Addon>(
    State(broker): State<Broker<A>>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Response {
    reply::answer(
        async {
            check_id("instance id", &instance_id)?;
            check_id("binding id", &binding_id)?;
            let binding = broker.core.store.osb_binding(&binding_id).await?;
            // A binding whose bind is under way does not exist yet.
            let binding = binding.filter(|b| b.uuid == instance_id && !b.credentials.is_empty());
            let Some(binding) = binding else { return Err(AddonError::osb_unknown_binding(&binding_id)) };
            let credentials: Value = serde_json::from_str(&binding.credentials).unwrap_or_else(|_| json!({}));
            let attributes: Value = serde_json::from_str(&binding.attributes).unwrap_or_else(|_| json!({}));
            let mut body = json!({ "credentials": credentials });
            if let Some(parameters) = attributes.get("parameters").filter(|p| !p.is_null()) {
                body["parameters"] = parameters.clone();
            }
            Ok(reply::json_response(StatusCode::OK, &body))
        }
        .await,
    )
}

/// `GET .../service_bindings/{binding_id}/last_operation`: bindings are made within their
/// request, so one on record has succeeded (or is being made right now), and one that is not is
/// gone.
pub(crate) async fn last_operation<A: Addon>(
    State(broker): State<Broker<A>>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Response {
    reply::answer(
        async {
            check_id("instance id", &instance_id)?;
            check_id("binding id", &binding_id)?;
            let binding = broker.core.store.osb_binding(&binding_id).await?.filter(|b| b.uuid == instance_id);
            Ok(match binding {
                Some(binding) if binding.credentials.is_empty() => {
                    reply::json_response(StatusCode::OK, &json!({ "state": "in progress" }))
                }
                Some(_) => reply::json_response(StatusCode::OK, &json!({ "state": "succeeded" })),
                None => reply::gone(),
            })
        }
        .await,
    )
}
