//! Provision, plan change and deprovision as Heroku calls them: v3 JSON in, the lifecycle's
//! outcome out as Heroku's status and body (200 or 202 with the recorded answer; 200 or 202 for
//! a plan change; 204 or 202 for a deprovision).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::base::protocol::{Marketplace, PlanChangeBody, PlanChangeInput, ProvisionRequest};
use crate::lifecycle::{deprovision, plan_change, provision, Core};
use crate::services::vendor::addon::Addon;
// `Path` refuses an id that is not UTF-8 (`%ff`) in JSON, like every other refusal.
use crate::web::extract::Path;
use crate::web::{json, respond};

/// `POST {base_path}`.
pub(crate) async fn provision<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond::answer(async {
        let request: ProvisionRequest =
            json::parse("provision request", core.settings.body_limit, &headers, body)?;
        let recorded = provision::provision(&core, request).await?;
        let status = if recorded.accepted { StatusCode::ACCEPTED } else { StatusCode::OK };
        Ok(respond::raw(status, recorded.body))
    })
    .await
}

/// `PUT {base_path}/{id}`.
pub(crate) async fn plan_change<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond::answer(async {
        let input: PlanChangeInput =
            json::parse("plan change request", core.settings.body_limit, &headers, body)?;
        let outcome = plan_change::change_plan(&core, Marketplace::Heroku, id, input.plan).await?;
        let body = PlanChangeBody { config: outcome.config.as_ref(), message: outcome.message.as_deref() };
        let status = if outcome.accepted { StatusCode::ACCEPTED } else { StatusCode::OK };
        Ok(respond::json(status, &body))
    })
    .await
}

/// `DELETE {base_path}/{id}`.
pub(crate) async fn deprovision<A: Addon>(
    State(core): State<Arc<Core<A>>>,
    Path(id): Path<String>,
) -> Response {
    respond::answer(async {
        Ok(match deprovision::deprovision(&core, Marketplace::Heroku, id).await?.later {
            Some(message) => respond::json(StatusCode::ACCEPTED, &serde_json::json!({ "message": message })),
            None => StatusCode::NO_CONTENT.into_response(),
        })
    })
    .await
}
