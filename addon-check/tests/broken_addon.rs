//! Proof that the checker catches what it claims to: a small add-on written by hand with axum
//! (not with this framework), with switches that each break one rule. The healthy add-on passes
//! every check; each switch fails exactly the checks that cover its rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use addon_check::{Options, Status};
use addon_testing::{now, sha1_hex, sha256_hex};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

const ID: &str = "broken-addon";
const PASSWORD: &str = "broken-addon-password-0123456789";
const SALT: &str = "broken-addon-sso-salt-0123456789";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    Healthy,
    AcceptsAnyPassword,
    ForgetsReplays,
    UndeclaredConfigVar,
    NoGoneAfterDeprovision,
    SsoAcceptsStale,
    SsoIgnoresResource,
    ServerErrorOnBadJson,
    Redirect307,
}

struct Resource {
    plan: String,
    body: Value,
    gone: bool,
}

struct Addon {
    switch: Switch,
    resources: Mutex<HashMap<String, Resource>>,
    next: Mutex<u64>,
}

type Shared = Arc<Addon>;

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

impl Addon {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        if self.switch == Switch::AcceptsAnyPassword {
            return headers.contains_key(header::AUTHORIZATION);
        }
        let expected =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{PASSWORD}")));
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
    }

    fn token(&self) -> String {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        format!("token-{next}")
    }
}

fn unauthorized() -> Response {
    let mut response = refuse(StatusCode::UNAUTHORIZED, "bad credentials");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, "Basic".parse().unwrap());
    response
}

async fn provision(
    State(addon): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !addon.authorized(&headers) {
        return unauthorized();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(rejection.status(), "the body is too large"),
    };
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    if !content_type.starts_with("application/json") {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send JSON");
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) if addon.switch == Switch::ServerErrorOnBadJson => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
        }
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "malformed JSON"),
    };
    let (Some(uuid), Some(plan)) = (request["uuid"].as_str(), request["plan"].as_str()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "uuid and plan are required");
    };
    let mut resources = addon.resources.lock().unwrap();
    if let Some(existing) = resources.get(uuid) {
        if existing.gone && addon.switch != Switch::NoGoneAfterDeprovision {
            return refuse(StatusCode::GONE, "deprovisioned");
        }
        if addon.switch != Switch::ForgetsReplays {
            return Json(existing.body.clone()).into_response();
        }
    }
    let mut config = json!({ "BROKEN_ADDON_URL": format!("https://broken.example/{uuid}"), "BROKEN_ADDON_TOKEN": addon.token() });
    if addon.switch == Switch::UndeclaredConfigVar {
        config["BROKEN_ADDON_EXTRA"] = json!("surprise");
    }
    let answer = json!({ "id": uuid, "config": config });
    let gone = resources.get(uuid).is_some_and(|r| r.gone);
    resources.insert(uuid.to_owned(), Resource { plan: plan.to_owned(), body: answer.clone(), gone });
    Json(answer).into_response()
}

async fn plan_change(
    State(addon): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !addon.authorized(&headers) {
        return unauthorized();
    }
    let mut resources = addon.resources.lock().unwrap();
    let Some(resource) = resources.get_mut(&id) else { return refuse(StatusCode::NOT_FOUND, "unknown") };
    if resource.gone {
        return refuse(StatusCode::GONE, "deprovisioned");
    }
    let Some(plan) =
        serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["plan"].as_str().map(str::to_owned))
    else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "plan is required");
    };
    resource.plan = plan;
    Json(json!({ "message": "ok" })).into_response()
}

async fn deprovision(State(addon): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !addon.authorized(&headers) {
        return unauthorized();
    }
    let mut resources = addon.resources.lock().unwrap();
    match resources.get_mut(&id) {
        None => refuse(StatusCode::NOT_FOUND, "unknown"),
        Some(resource) if resource.gone => refuse(StatusCode::GONE, "deprovisioned"),
        Some(resource) => {
            resource.gone = true;
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn sso(State(addon): State<Shared>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let ts = field("timestamp");
    let Ok(seconds) = ts.parse::<u64>() else { return refuse(StatusCode::FORBIDDEN, "no timestamp") };
    let now = now();
    let stale = seconds + 300 < now && addon.switch != Switch::SsoAcceptsStale;
    if stale || seconds > now + 300 {
        return refuse(StatusCode::FORBIDDEN, "expired");
    }
    let resources = addon.resources.lock().unwrap();
    let signed_for = |uuid: &str| -> bool {
        if let Some(token) = form.get("user_scoped_resource_token") {
            let expected = sha256_hex(&format!("{uuid}:{SALT}:{ts}:{}:{}", field("user_id"), field("email")));
            return *token == expected;
        }
        if let Some(token) = form.get("resource_token") {
            return *token == sha1_hex(&format!("{uuid}:{SALT}:{ts}"));
        }
        form.get("token").is_some_and(|t| *t == sha1_hex(&format!("{uuid}:{SALT}:{ts}")))
    };
    let named = form.get("resource_id").or_else(|| form.get("id")).cloned().unwrap_or_default();
    let valid = if addon.switch == Switch::SsoIgnoresResource {
        resources.keys().any(|uuid| signed_for(uuid))
    } else {
        signed_for(&named)
    };
    if !valid {
        return refuse(StatusCode::FORBIDDEN, "invalid token");
    }
    if resources.get(&named).is_none_or(|r| r.gone) {
        return refuse(StatusCode::FORBIDDEN, "removed");
    }
    let status = if addon.switch == Switch::Redirect307 {
        StatusCode::TEMPORARY_REDIRECT
    } else {
        StatusCode::SEE_OTHER
    };
    (
        status,
        [
            (header::LOCATION, "/dashboard".to_owned()),
            (header::SET_COOKIE, format!("session={named}; HttpOnly")),
        ],
    )
        .into_response()
}

async fn dashboard(headers: HeaderMap) -> Response {
    match headers.get(header::COOKIE) {
        Some(_) => "<h1>dashboard</h1>".into_response(),
        None => refuse(StatusCode::UNAUTHORIZED, "sign in"),
    }
}

async fn start(switch: Switch) -> String {
    let addon = Arc::new(Addon { switch, resources: Mutex::default(), next: Mutex::new(0) });
    let router = Router::new()
        .route("/heroku/resources", post(provision))
        .route("/heroku/resources/{id}", put(plan_change).delete(deprovision))
        .route("/sso/login", post(sso))
        .route("/dashboard", get(dashboard))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "nothing here") })
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(addon);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn manifest() -> String {
    json!({
        "id": ID, "name": "Broken Add-on",
        "api": {
            "config_vars": ["BROKEN_ADDON_URL", "BROKEN_ADDON_TOKEN"], "password": PASSWORD, "sso_salt": SALT,
            "regions": ["us"], "requires": [], "version": "3",
            "production": {"base_url": "https://broken.example/heroku/resources", "sso_url": "https://broken.example/sso/login"},
            "test": {"base_url": "http://127.0.0.1:5000/heroku/resources", "sso_url": "http://127.0.0.1:5000/sso/login"}
        }
    })
    .to_string()
}

async fn failed_checks(switch: Switch) -> Vec<String> {
    let url = start(switch).await;
    let options = Options {
        manifest: manifest(),
        url: Some(url),
        plans: vec!["test".into(), "pro".into()],
        ..Options::default()
    };
    let report = addon_check::run(options, |_| {}).await;
    assert_eq!(report.count(Status::Warn), 0, "{switch:?}: {:?}", report.outcomes);
    let mut failed: Vec<String> = report.failed().into_iter().map(str::to_owned).collect();
    failed.sort();
    failed
}

macro_rules! switch_tests {
    ($($name:ident: $switch:expr => [$($check:literal),*],)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let mut expected: Vec<String> = vec![$($check.to_owned()),*];
                expected.sort();
                assert_eq!(failed_checks($switch).await, expected);
            }
        )*
    };
}

switch_tests! {
    the_healthy_addon_passes_every_check: Switch::Healthy => [],
    accepting_any_password_fails_the_wrong_credentials_checks: Switch::AcceptsAnyPassword =>
        ["auth.wrong.deprovision", "auth.wrong.plan_change", "auth.wrong.provision"],
    forgetting_replays_fails_the_idempotency_checks: Switch::ForgetsReplays =>
        ["idempotency.concurrent", "idempotency.replay"],
    an_undeclared_config_var_fails_the_config_check: Switch::UndeclaredConfigVar => ["provision.config"],
    no_410_after_deprovision_fails_that_check: Switch::NoGoneAfterDeprovision => ["idempotency.gone_after_deprovision"],
    accepting_stale_tokens_fails_the_stale_check: Switch::SsoAcceptsStale => ["sso.stale"],
    ignoring_the_resource_fails_the_cross_resource_check: Switch::SsoIgnoresResource => ["sso.cross_resource"],
    a_500_on_bad_json_fails_the_malformed_json_check: Switch::ServerErrorOnBadJson => ["input.malformed_json"],
    redirecting_with_307_fails_the_sign_in_checks: Switch::Redirect307 =>
        ["sso.landing", "sso.legacy_token", "sso.resource_token", "sso.user_scoped_token"],
}
