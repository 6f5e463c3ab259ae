//! `POST {base}/notifications`: `{"type", "created_at", "payload"}`. Each resource named is
//! recorded through the lifecycle (`notices`); an unknown type is a 422, never a 5xx.
//!
//! The payload is an object in DigitalOcean's documentation as quoted by vendors, and a JSON
//! string holding that object in DigitalOcean's own sample (its Go type is `string`): both are
//! read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::base::answer::AddonError;
use crate::base::protocol::{check_resource_id, Marketplace, Notice, Plan};
use crate::lifecycle::notices::{hear, Heard};
use crate::lifecycle::Core;
use crate::services::vendor::addon::Addon;
use crate::web::{json, respond};

const SUSPENDED: &str = "resources.suspended";
const REACTIVATED: &str = "resources.reactivated";
const DEPROVISIONING_FAILED: &str = "resources.deprovisioning.failed";
const UPDATED: &str = "resources.updated";
const KNOWN: [&str; 4] = [SUSPENDED, REACTIVATED, DEPROVISIONING_FAILED, UPDATED];

/// At most this many resources in one notification: a bound on the work one call can ask for.
const MAX_RESOURCES: usize = 1000;

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    payload: Value,
}

#[derive(Deserialize)]
struct Resources {
    resources_uuids: Vec<String>,
}

#[derive(Deserialize)]
struct Updated {
    resource: UpdatedResource,
    #[serde(default)]
    plan: Option<UpdatedPlan>,
}

#[derive(Deserialize)]
struct UpdatedResource {
    uuid: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct UpdatedPlan {
    #[serde(default)]
    slug: Option<String>,
}

pub(super) async fn receive<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match handle(&core, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

async fn handle<A: Addon>(
    core: &Arc<Core<A>>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AddonError> {
    let envelope: Envelope = json::parse("notification", core.settings.body_limit, headers, body)?;
    let kind = envelope.kind.as_str();
    let created_at = envelope.created_at.as_ref().and_then(Value::as_i64);
    let targets: Vec<(String, Notice)> = match kind {
        SUSPENDED | REACTIVATED | DEPROVISIONING_FAILED => {
            let notice = match kind {
                SUSPENDED => Notice::Suspended,
                REACTIVATED => Notice::Reactivated,
                _ => Notice::DeprovisioningFailed,
            };
            let resources: Resources = payload(kind, envelope.payload)?;
            if resources.resources_uuids.len() > MAX_RESOURCES {
                return Err(AddonError::notification_malformed(
                    kind,
                    format!("more than {MAX_RESOURCES} resources"),
                ));
            }
            resources.resources_uuids.into_iter().map(|uuid| (uuid, notice.clone())).collect()
        }
        UPDATED => {
            let updated: Updated = payload(kind, envelope.payload)?;
            let plan = updated.plan.and_then(|p| p.slug).map(Plan::from);
            vec![(updated.resource.uuid, Notice::Updated { plan, name: updated.resource.name })]
        }
        other => return Err(AddonError::unknown_notification(other, &KNOWN)),
    };
    for (uuid, _) in &targets {
        check_resource_id("resource uuid", uuid)
            .map_err(|problem| AddonError::notification_malformed(kind, problem))?;
    }
    let (mut recorded, mut unknown) = (0, 0);
    for (uuid, notice) in targets {
        match hear(core, Marketplace::DigitalOcean, &uuid, notice, created_at).await? {
            Heard::Recorded => recorded += 1,
            Heard::Unknown => unknown += 1,
        }
    }
    let message = format!("Recorded `{kind}` for {recorded} resource(s); {unknown} unknown here.");
    Ok(respond::json(StatusCode::OK, &serde_json::json!({ "message": message })))
}

/// The payload as `T`: an object, or a string holding one.
fn payload<T: DeserializeOwned>(kind: &str, payload: Value) -> Result<T, AddonError> {
    let payload = match payload {
        Value::String(text) => {
            serde_json::from_str(&text).map_err(|e| AddonError::notification_malformed(kind, e))?
        }
        other => other,
    };
    serde_json::from_value(payload).map_err(|e| AddonError::notification_malformed(kind, e))
}
