//! Service bindings: the credentials an app gets, at bind time. They are the resource's config
//! as it stands, recorded (sealed) with the binding so a repeated bind is answered with the same
//! credentials; a bind with other attributes under the same id is a 409.

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
use crate::services::store::{OsbBinding, ResourceState};
use crate::services::vendor::addon::Addon;
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
    let attributes = json!({
        "bind_resource": body.bind_resource.unwrap_or(Value::Null),
        "parameters": body.parameters.unwrap_or(Value::Null),
    })
    .to_string();
    let credentials = serde_json::to_string(&record.config).unwrap_or_else(|_| "{}".to_owned());
    let wanted = OsbBinding {
        uuid: instance_id.clone(),
        service_id: body.service_id,
        plan_id: body.plan_id,
        attributes,
        credentials,
    };
    let (recorded, inserted) = broker.core.store.claim_osb_binding(&binding_id, &wanted).await?;
    let same = recorded.uuid == wanted.uuid
        && recorded.service_id == wanted.service_id
        && recorded.plan_id == wanted.plan_id
        && recorded.attributes == wanted.attributes;
    if !same {
        return Err(AddonError::osb_binding_conflict(&binding_id));
    }
    let credentials: Value = serde_json::from_str(&recorded.credentials).unwrap_or_else(|_| json!({}));
    let status = if inserted { StatusCode::CREATED } else { StatusCode::OK };
    Ok(reply::json_response(status, &json!({ "credentials": credentials })))
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
            Ok(if broker.core.store.remove_osb_binding(&instance_id, &binding_id).await? {
                reply::json_response(StatusCode::OK, &json!({}))
            } else {
                reply::gone()
            })
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
            let binding = broker.core.store.osb_binding(&binding_id).await?.filter(|b| b.uuid == instance_id);
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

/// `GET .../service_bindings/{binding_id}/last_operation`: bindings are made synchronously, so
/// one that exists has succeeded and one that does not is gone.
pub(crate) async fn last_operation<A: Addon>(
    State(broker): State<Broker<A>>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Response {
    reply::answer(
        async {
            check_id("instance id", &instance_id)?;
            check_id("binding id", &binding_id)?;
            let exists =
                broker.core.store.osb_binding(&binding_id).await?.is_some_and(|b| b.uuid == instance_id);
            Ok(if exists {
                reply::json_response(StatusCode::OK, &json!({ "state": "succeeded" }))
            } else {
                reply::gone()
            })
        }
        .await,
    )
}
