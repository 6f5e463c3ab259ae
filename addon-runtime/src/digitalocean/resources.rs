//! Provision, plan change and deprovision as DigitalOcean calls them: its JSON in, the
//! lifecycle's outcome out in its shapes. A replayed provision gets the recorded answer again,
//! byte for byte, and the vendor is not called twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::base::protocol::{Marketplace, OauthGrant, Plan, PlanChangeBody, ProvisionRequest};
use crate::lifecycle::{deprovision, plan_change, provision, Core};
use crate::services::vendor::addon::Addon;
// `Path` refuses an id that is not UTF-8 (`%ff`) in JSON, like every other refusal.
use crate::web::extract::Path;
use crate::web::{json, respond};

/// DigitalOcean's provision body (fields as its sample add-on reads them). Unknown fields are
/// ignored; every field but `uuid` and `plan_slug` may be missing.
#[derive(Deserialize)]
struct ProvisionBody {
    uuid: String,
    plan_slug: String,
    #[serde(default)]
    resource_name: Option<String>,
    /// Vendor-defined settings the user chose: the vendor's `options`, as strings.
    #[serde(default)]
    metadata: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    email: Option<String>,
    /// A string in the sample; kept as text whatever JSON it is.
    #[serde(default)]
    creator_id: Option<Value>,
    #[serde(default)]
    oauth_grant: Option<GrantBody>,
}

#[derive(Deserialize)]
struct GrantBody {
    code: String,
    /// Unix seconds in the sample; kept as text whatever JSON it is.
    #[serde(default)]
    expires_at: Option<Value>,
    #[serde(default, rename = "type")]
    grant_type: Option<String>,
}

impl ProvisionBody {
    fn into_request(self) -> ProvisionRequest {
        let mut request = ProvisionRequest::new(self.uuid, Plan::from(self.plan_slug))
            .with_marketplace(Marketplace::DigitalOcean);
        request.name = self.resource_name;
        request.options = self.metadata.unwrap_or_default().into_iter().map(|(k, v)| (k, text(v))).collect();
        request.email = self.email;
        request.team_id = self.creator_id.map(text);
        request.oauth_grant = self.oauth_grant.map(|grant| OauthGrant {
            code: grant.code,
            expires_at: grant.expires_at.map(text),
            grant_type: grant.grant_type,
        });
        request
    }
}

/// A JSON value as text: a string as it is, anything else as its JSON.
fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// `{"plan_slug"}`; DigitalOcean may send more.
#[derive(Deserialize)]
struct PlanChangeInput {
    plan_slug: String,
}

/// `POST {base}/resources`.
pub(super) async fn provision<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond::answer(async {
        let body: ProvisionBody = json::parse("provision request", core.settings.body_limit, &headers, body)?;
        let recorded = provision::provision(&core, body.into_request()).await?;
        let status = if recorded.accepted { StatusCode::ACCEPTED } else { StatusCode::OK };
        Ok(respond::raw(status, reshape(&recorded.body)))
    })
    .await
}

/// The recorded answer in DigitalOcean's shape: Heroku's without `log_drain_url`. The same
/// recorded bytes always give the same bytes, so a replay is answered identically.
fn reshape(recorded: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Map<String, Value>>(recorded) {
        Ok(mut answer) => {
            answer.remove("log_drain_url");
            serde_json::to_vec(&answer).unwrap_or_else(|_| recorded.to_vec())
        }
        Err(_) => recorded.to_vec(),
    }
}

/// `PUT {base}/resources/{uuid}`: 204 when the plan changed (or already was the one asked), 200
/// with the config that changed with it, 202 if the vendor finishes it later.
pub(super) async fn plan_change<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond::answer(async {
        let input: PlanChangeInput =
            json::parse("plan change request", core.settings.body_limit, &headers, body)?;
        let outcome =
            plan_change::change_plan(&core, Marketplace::DigitalOcean, uuid, input.plan_slug).await?;
        let body = PlanChangeBody { config: outcome.config.as_ref(), message: outcome.message.as_deref() };
        Ok(match (outcome.accepted, &outcome.config) {
            (true, _) => respond::json(StatusCode::ACCEPTED, &body),
            (false, Some(_)) => respond::json(StatusCode::OK, &body),
            (false, None) => StatusCode::NO_CONTENT.into_response(),
        })
    })
    .await
}

/// `DELETE {base}/resources/{uuid}`: 200 `{}`, or 202 with the vendor's message if it finishes
/// later.
pub(super) async fn deprovision<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(uuid): Path<String>,
) -> Response {
    respond::answer(async {
        Ok(match deprovision::deprovision(&core, Marketplace::DigitalOcean, uuid).await?.later {
            Some(message) => respond::json(StatusCode::ACCEPTED, &serde_json::json!({ "message": message })),
            None => respond::json(StatusCode::OK, &serde_json::json!({})),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_body() {
        let body = r#"{"uuid": "ab12-cd34", "plan_slug": "basic", "resource_name": "my-monitor",
            "app_slug": "pingly", "metadata": {"language": "en", "email_preference": true},
            "email": "x@users.digitalocean.example", "creator_id": 123,
            "oauth_grant": {"type": "authorization_code", "code": "c0de", "expires_at": 1700000000},
            "something_new": [1]}"#;
        let request = serde_json::from_str::<ProvisionBody>(body).unwrap().into_request();
        assert_eq!((request.uuid.as_str(), request.plan.as_str()), ("ab12-cd34", "basic"));
        assert_eq!(request.marketplace, Marketplace::DigitalOcean);
        assert_eq!(request.options["email_preference"], "true");
        assert_eq!(request.team_id.as_deref(), Some("123"));
        let grant = request.oauth_grant.unwrap();
        assert_eq!((grant.code.as_str(), grant.expires_at.as_deref()), ("c0de", Some("1700000000")));
    }

    #[test]
    fn replays_reshape_to_the_same_bytes() {
        let recorded = br#"{"id":"u","config":{"A_URL":"x"},"message":"hi","log_drain_url":"https://d"}"#;
        let once = reshape(recorded);
        assert_eq!(once, reshape(recorded));
        let json: Value = serde_json::from_slice(&once).unwrap();
        assert!(json.get("log_drain_url").is_none() && json["config"]["A_URL"] == "x");
    }
}
