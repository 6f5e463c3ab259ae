//! The app's API: `GET` and `POST /api/monitors`, `DELETE /api/monitors/{id}`, authenticated by
//! the resource's `PINGLY_API_KEY` (Bearer, or Basic's password) and rate limited per resource.
//! Every refusal is JSON `{"message": ...}`.

use std::sync::Arc;

use addon_runtime::extract::{Json, Path};
use addon_runtime::{AddonError, ApiKey, ApiKeyLimit, ApiKeyVar, ConfigVar, Limited, RateLimiter, Store};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use serde::{Deserialize, Serialize};

use crate::plans::{self, limit_of};
use crate::{monitors, target_url, Monitor, Pingly};

pub(crate) fn routes() -> Router<Arc<Pingly>> {
    Router::new().route("/api/monitors", get(list).post(create)).route("/api/monitors/{id}", delete(remove))
}

/// The key the app sends is `PINGLY_API_KEY`; the runtime finds its resource.
impl ApiKeyVar<Arc<Pingly>> for Pingly {
    const VAR: ConfigVar = Pingly::PINGLY_API_KEY;

    fn store(state: &Arc<Pingly>) -> &Store {
        &state.store
    }
}

/// Calls are counted per resource once the key opened it: a wrong key spends nobody's allowance.
impl ApiKeyLimit<Arc<Pingly>> for Pingly {
    fn api_rate_limiter(state: &Arc<Pingly>) -> &RateLimiter {
        &state.api_limit
    }
}

/// The resource an API call is for.
type Caller = Limited<ApiKey<Pingly>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMonitor {
    url: String,
}

#[derive(Serialize)]
struct Listing {
    plan: String,
    limit: u32,
    monitors: Vec<Monitor>,
}

async fn list(State(pingly): State<Arc<Pingly>>, Limited(key): Caller) -> Result<Json<Listing>, AddonError> {
    let resource = key.resource();
    let monitors = monitors::list(&pingly.store, &resource.uuid).await?;
    Ok(Json(Listing { plan: resource.plan.clone(), limit: limit_of(&resource.plan), monitors }))
}

async fn create(
    State(pingly): State<Arc<Pingly>>,
    Limited(key): Caller,
    Json(new): Json<NewMonitor>,
) -> Result<(StatusCode, Json<Monitor>), AddonError> {
    let url = target_url::parse(&new.url)?;
    // The plan is read under the resource's lease and the monitor written before it is released:
    // a downgrade that counts the monitors waits for this write, or this waits for it and sees
    // the new plan. Without it, both could pass their checks and leave 4 monitors on hobby.
    let lease = pingly.store.lease(&key.resource().uuid).await?;
    let plan = lease.resource().plan.clone();
    let limit = limit_of(&plan);
    let count = monitors::count(&pingly.store, &lease.resource().uuid).await?;
    if count >= u64::from(limit) {
        return Err(AddonError::new(format!(
            "The {plan} plan allows {}, and this add-on has {count}. Delete one, or upgrade with \
             `heroku addons:upgrade` to monitor more.",
            plans::monitors(limit.into())
        )));
    }
    let monitor = monitors::insert(&pingly.store, &lease.resource().uuid, &url).await?;
    lease.release().await;
    Ok((StatusCode::CREATED, Json(monitor)))
}

/// Deleting needs no lease: it only lowers the count a plan change compares.
async fn remove(
    State(pingly): State<Arc<Pingly>>,
    Limited(key): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AddonError> {
    if monitors::delete(&pingly.store, &key.resource().uuid, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AddonError::not_found(format!("This add-on has no monitor {id}.")))
    }
}
