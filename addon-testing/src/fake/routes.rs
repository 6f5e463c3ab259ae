//! The fake's routes. Each checks its request as Heroku would and records it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State as Extract};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{Call, State, Token};

type Shared = Arc<Mutex<State>>;

const ACCEPT: &str = "application/vnd.heroku+json; version=3";

pub(super) fn router(state: Shared) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/addons/{uuid}/config", patch(update_config).get(read_config))
        .route("/addons/{uuid}/actions/{action}", post(action))
        .route("/addons/{uuid}", get(addon))
        .route("/apps/{app}", get(app))
        .route("/apps/{app}/collaborators", get(collaborators))
        .route("/addons/{uuid}/log-drains/{drain}", put(log_drain))
        .route("/addons/{uuid}/webhooks", post(webhook))
        .with_state(state)
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every route reads of its request: the method and path (for the call log), the headers
/// (for `Accept` and the token) and the body as text.
struct Incoming {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
}

impl<S: Send + Sync> FromRequest<S> for Incoming {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (method, uri, headers) =
            (request.method().clone(), request.uri().clone(), request.headers().clone());
        let body = Bytes::from_request(request, state).await.unwrap_or_default();
        Ok(Incoming { method, uri, headers, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

/// Heroku's error answer: `{"id": .., "message": ..}` with a status.
struct Refusal(StatusCode, &'static str, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "id": self.1, "message": self.2 }))).into_response()
    }
}

fn error(status: StatusCode, id: &'static str, message: &'static str) -> Refusal {
    Refusal(status, id, message)
}

/// Applies an injected failure or delay, if one matches; records the call either way.
async fn intercept(state: &Shared, call: &Incoming, body: &str) -> Option<Response> {
    let (failure, delay) = {
        let mut s = lock(state);
        let path = call.uri.path().to_owned();
        let found = s.injected.iter_mut().find(|i| i.remaining > 0 && path.contains(&i.path_contains));
        match found {
            Some(injected) => {
                injected.remaining -= 1;
                (Some((injected.status, injected.retry_after)), injected.delay)
            }
            None => (None, None),
        }
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match failure {
        Some((status, retry_after)) if status != 0 => {
            record(state, call, body, status, false);
            let mut response = error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                if status == 429 { "rate_limit" } else { "unavailable" },
                "injected failure",
            )
            .into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert("retry-after", seconds.into());
            }
            Some(response)
        }
        _ => None,
    }
}

fn record(state: &Shared, call: &Incoming, body: &str, status: u16, refreshed_token: bool) {
    lock(state).calls.push(Call {
        method: call.method.to_string(),
        path: call.uri.path().to_owned(),
        body: body.to_owned(),
        status,
        refreshed_token,
    });
}

/// `POST /oauth/token`, form-encoded: `authorization_code` (a grant, once) or `refresh_token`.
async fn token(Extract(state): Extract<Shared>, call: Incoming) -> Response {
    if let Some(failure) = intercept(&state, &call, &call.body).await {
        return failure;
    }
    let form_type = call.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let answer = if !form_type.starts_with("application/x-www-form-urlencoded") {
        Err(error(StatusCode::BAD_REQUEST, "bad_request", "expected a form-encoded body"))
    } else {
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_str(&call.body).unwrap_or_default();
        issue(&state, &form)
    };
    let response = answer.unwrap_or_else(IntoResponse::into_response);
    record(&state, &call, &redact_form(&call.body), response.status().as_u16(), false);
    response
}

fn issue(state: &Shared, form: &std::collections::HashMap<String, String>) -> Result<Response, Refusal> {
    let mut s = lock(state);
    if form.get("client_secret") != Some(&s.client_secret) {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid client secret"));
    }
    let (uuid, from_refresh) = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            let uuid = s.grants.remove(&code).ok_or_else(|| {
                error(StatusCode::BAD_REQUEST, "unauthorized", "the grant code is unknown or already used")
            })?;
            (uuid, false)
        }
        Some("refresh_token") => {
            let refresh = form.get("refresh_token").cloned().unwrap_or_default();
            let uuid = s
                .refresh_tokens
                .get(&refresh)
                .cloned()
                .ok_or_else(|| error(StatusCode::BAD_REQUEST, "unauthorized", "unknown refresh token"))?;
            (uuid, true)
        }
        _ => return Err(error(StatusCode::BAD_REQUEST, "bad_request", "unsupported grant_type")),
    };
    s.next += 1;
    let eight_hours = Duration::from_secs(28_800);
    let lifetime = if from_refresh { eight_hours } else { s.token_lifetime.unwrap_or(eight_hours) };
    let access = format!("access-{}-{uuid}", s.next);
    s.tokens.insert(
        access.clone(),
        Token { uuid: uuid.clone(), expires: Instant::now() + lifetime, from_refresh },
    );
    let mut body =
        json!({ "access_token": access, "expires_in": lifetime.as_secs(), "token_type": "Bearer" });
    // Like Heroku's samples disagree on: a refresh answer carries no new refresh token here.
    if !from_refresh {
        let refresh = format!("refresh-{}-{uuid}", s.next);
        s.refresh_tokens.insert(refresh.clone(), uuid);
        body["refresh_token"] = json!(refresh);
    }
    Ok(Json(body).into_response())
}

/// Grant codes and secrets never stay in the call log in the clear.
fn redact_form(text: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).unwrap_or_default();
    pairs
        .into_iter()
        .map(|(k, v)| if k == "grant_type" { format!("{k}={v}") } else { format!("{k}=<{} chars>", v.len()) })
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks `Accept` and the bearer token (valid, unexpired, for this resource when one is named).
/// Returns whether the token came from a refresh.
fn authorize(state: &Shared, headers: &HeaderMap, uuid: Option<&str>) -> Result<bool, Refusal> {
    if headers.get("accept").and_then(|v| v.to_str().ok()) != Some(ACCEPT) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Accept must be application/vnd.heroku+json; version=3",
        ));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "unauthorized", "no bearer token"))?;
    let s = lock(state);
    let found = s
        .tokens
        .get(token)
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid token"))?;
    if found.expires <= Instant::now() {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "the token has expired"));
    }
    if uuid.is_some_and(|uuid| uuid != found.uuid) {
        return Err(error(StatusCode::FORBIDDEN, "forbidden", "the token is not for this add-on"));
    }
    Ok(found.from_refresh)
}

/// Runs the common steps of a Platform API call: injected failures, auth, recording.
async fn platform_call(
    state: &Shared,
    call: &Incoming,
    uuid: Option<&str>,
    handle: impl FnOnce(&mut State) -> Result<Response, Refusal>,
) -> Response {
    if let Some(failure) = intercept(state, call, &call.body).await {
        return failure;
    }
    let (response, refreshed) = match authorize(state, &call.headers, uuid) {
        Ok(refreshed) => (handle(&mut lock(state)).unwrap_or_else(IntoResponse::into_response), refreshed),
        Err(refusal) => (refusal.into_response(), false),
    };
    record(state, call, &call.body, response.status().as_u16(), refreshed);
    response
}

async fn update_config(
    Extract(state): Extract<Shared>,
    Path(uuid): Path<String>,
    call: Incoming,
) -> Response {
    let parsed: Option<Value> = serde_json::from_str(&call.body).ok();
    platform_call(&state, &call, Some(&uuid), |s| {
        let vars = parsed.as_ref().and_then(|v| v["config"].as_array()).ok_or_else(|| {
            error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", "expected {\"config\": [..]}")
        })?;
        let config = s.config.entry(uuid.clone()).or_default();
        for var in vars {
            let (Some(name), value) = (var["name"].as_str(), &var["value"]) else {
                return Err(error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "each var needs a name",
                ));
            };
            if !(value.is_string() || value.is_null()) {
                return Err(error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "values are strings or null",
                ));
            }
            config.insert(name.to_owned(), value.as_str().map(str::to_owned));
        }
        let answer: Vec<Value> =
            config.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
        Ok(Json(answer).into_response())
    })
    .await
}

async fn read_config(Extract(state): Extract<Shared>, Path(uuid): Path<String>, call: Incoming) -> Response {
    platform_call(&state, &call, Some(&uuid), |s| {
        let config = s.config.get(&uuid).cloned().unwrap_or_default();
        let answer: Vec<Value> =
            config.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
        Ok(Json(answer).into_response())
    })
    .await
}

fn addon_body(uuid: &str, state: &str) -> Value {
    json!({
        "id": uuid, "name": format!("addon-{}", &uuid[..8.min(uuid.len())]), "state": state,
        "app": {"id": format!("app-{uuid}"), "name": "my-app"}, "plan": {"id": "plan-1", "name": "acme:basic"},
        "web_url": null
    })
}

/// `POST /addons/{uuid}/actions/provision` and `.../actions/deprovision`: the add-on says it is done.
async fn action(
    Extract(state): Extract<Shared>,
    Path((uuid, action)): Path<(String, String)>,
    call: Incoming,
) -> Response {
    let new_state = match action.as_str() {
        "provision" => "provisioned",
        "deprovision" => "deprovisioned",
        _ => return error(StatusCode::NOT_FOUND, "not_found", "no such action").into_response(),
    };
    platform_call(&state, &call, Some(&uuid), |s| {
        s.addon_state.insert(uuid.clone(), new_state.to_owned());
        Ok(Json(addon_body(&uuid, new_state)).into_response())
    })
    .await
}

async fn addon(Extract(state): Extract<Shared>, Path(uuid): Path<String>, call: Incoming) -> Response {
    platform_call(&state, &call, Some(&uuid), |s| {
        let current = s.addon_state.get(&uuid).cloned().unwrap_or_else(|| "provisioning".to_owned());
        Ok(Json(addon_body(&uuid, &current)).into_response())
    })
    .await
}

async fn app(Extract(state): Extract<Shared>, Path(app): Path<String>, call: Incoming) -> Response {
    platform_call(&state, &call, None, |_| {
        Ok(Json(
            json!({"id": app, "name": "my-app", "owner": {"email": "owner@example.com", "id": "user-owner"}}),
        )
        .into_response())
    })
    .await
}

async fn collaborators(
    Extract(state): Extract<Shared>,
    Path(_app): Path<String>,
    call: Incoming,
) -> Response {
    platform_call(&state, &call, None, |_| {
        Ok(Json(json!([
            {"user": {"email": "owner@example.com", "id": "user-owner"}, "role": "owner"},
            {"user": {"email": "dev@example.com", "id": "user-dev"}, "role": "member"}
        ]))
        .into_response())
    })
    .await
}

async fn log_drain(
    Extract(state): Extract<Shared>,
    Path((uuid, _drain)): Path<(String, String)>,
    call: Incoming,
) -> Response {
    let url =
        serde_json::from_str::<Value>(&call.body).ok().and_then(|v| v["url"].as_str().map(str::to_owned));
    platform_call(&state, &call, Some(&uuid), |_| match url {
        Some(url) => Ok(Json(json!({"id": "drain-1", "url": url, "token": "d.1"})).into_response()),
        None => Err(error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", "url is required")),
    })
    .await
}

async fn webhook(Extract(state): Extract<Shared>, Path(uuid): Path<String>, call: Incoming) -> Response {
    let parsed: Option<Value> = serde_json::from_str(&call.body).ok();
    platform_call(&state, &call, Some(&uuid), |_| {
        let body = parsed.ok_or_else(|| error(StatusCode::BAD_REQUEST, "bad_request", "expected JSON"))?;
        let (Some(url), Some(_)) = (body["url"].as_str(), body["include"].as_array()) else {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_params",
                "url and include are required",
            ));
        };
        Ok((StatusCode::CREATED, Json(json!({"id": "webhook-1", "url": url, "level": body["level"]})))
            .into_response())
    })
    .await
}
