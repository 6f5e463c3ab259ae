//! Proof that the DigitalOcean mode catches what it claims to: a small add-on written by hand
//! with axum, speaking DigitalOcean's protocol, with switches that each break one rule. The
//! healthy add-on passes every check; each switch fails exactly the checks that cover its rule.
//! (`scripts/check-examples.sh` runs the same mode against the example Pingly.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use addon_check::{DigitalOceanOptions, Options, Status};
use addon_testing::{digitalocean_sso_token, now};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

const ID: &str = "broken-do";
const SLUG: &str = "broken_do";
const PASSWORD: &str = "broken-do-password-0123456789abc";
const SALT: &str = "broken-do-sso-salt-0123456789abc";
const PLANS: [&str; 2] = ["hobby", "pro"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    Healthy,
    AcceptsAnyPassword,
    /// DigitalOcean's own sample: a re-delivered provision gets a new key.
    RegeneratesOnReplay,
    AcceptsAnyToken,
    IgnoresSuspension,
    ServerErrorOnUnknownNotification,
    DeprovisionsTwice,
}

#[derive(Default)]
struct Resource {
    body: Value,
    suspended: bool,
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
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{SLUG}:{PASSWORD}"))
        );
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
    }
}

async fn provision(State(addon): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if !addon.authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "bad credentials");
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(uuid), Some(plan)) = (request["uuid"].as_str(), request["plan_slug"].as_str()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "uuid and plan_slug are required");
    };
    if !PLANS.contains(&plan) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "message": "no such plan", "plans": PLANS })),
        )
            .into_response();
    }
    let mut resources = addon.resources.lock().unwrap();
    if let Some(existing) = resources.get(uuid) {
        if addon.switch != Switch::RegeneratesOnReplay {
            return Json(existing.body.clone()).into_response();
        }
    }
    let mut next = addon.next.lock().unwrap();
    *next += 1;
    let body = json!({ "id": uuid, "config": { "BROKEN_DO_KEY": format!("key-{next}") }, "message": "ok" });
    resources.insert(uuid.to_owned(), Resource { body: body.clone(), ..Resource::default() });
    Json(body).into_response()
}

async fn plan_change(State(addon): State<Shared>, Path(uuid): Path<String>, headers: HeaderMap) -> Response {
    if !addon.authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "bad credentials");
    }
    match addon.resources.lock().unwrap().get(&uuid) {
        Some(resource) if !resource.gone => StatusCode::NO_CONTENT.into_response(),
        _ => refuse(StatusCode::NOT_FOUND, "unknown resource"),
    }
}

async fn deprovision(State(addon): State<Shared>, Path(uuid): Path<String>, headers: HeaderMap) -> Response {
    if !addon.authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "bad credentials");
    }
    let mut resources = addon.resources.lock().unwrap();
    match resources.get_mut(&uuid) {
        Some(resource) if !resource.gone || addon.switch == Switch::DeprovisionsTwice => {
            resource.gone = true;
            Json(json!({})).into_response()
        }
        _ => refuse(StatusCode::NOT_FOUND, "unknown resource"),
    }
}

async fn notifications(State(addon): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if !addon.authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "bad credentials");
    }
    let notification: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let uuids: Vec<String> = notification["payload"]["resources_uuids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let mut resources = addon.resources.lock().unwrap();
    let suspend = |resources: &mut HashMap<String, Resource>, to: bool| {
        for uuid in &uuids {
            if let Some(resource) = resources.get_mut(uuid) {
                resource.suspended = to && addon.switch != Switch::IgnoresSuspension;
            }
        }
    };
    match notification["type"].as_str() {
        Some("resources.suspended") => suspend(&mut resources, true),
        Some("resources.reactivated") => suspend(&mut resources, false),
        Some("resources.updated" | "resources.deprovisioning.failed") => {}
        _ if addon.switch == Switch::ServerErrorOnUnknownNotification => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "unrecognized notification type").into_response()
        }
        _ => return refuse(StatusCode::UNPROCESSABLE_ENTITY, "unknown notification type"),
    }
    Json(json!({})).into_response()
}

async fn sso(State(addon): State<Shared>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let (uuid, timestamp) = (field("resource_uuid"), field("timestamp"));
    let Ok(seconds) = timestamp.parse::<u64>() else { return refuse(StatusCode::FORBIDDEN, "no timestamp") };
    let fresh = seconds + 300 >= now() && seconds <= now() + 300;
    let signed = field("token") == digitalocean_sso_token(SALT, &timestamp, &uuid);
    if addon.switch != Switch::AcceptsAnyToken && !(fresh && signed) {
        return refuse(StatusCode::FORBIDDEN, "invalid token");
    }
    match addon.resources.lock().unwrap().get(&uuid) {
        Some(resource) if resource.suspended => refuse(StatusCode::FORBIDDEN, "suspended"),
        Some(resource) if !resource.gone => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard".to_owned())]).into_response()
        }
        _ => refuse(StatusCode::NOT_FOUND, "unknown resource"),
    }
}

async fn start(switch: Switch) -> String {
    let addon = Arc::new(Addon { switch, resources: Mutex::default(), next: Mutex::new(0) });
    let router = Router::new()
        .route("/do/resources", post(provision))
        .route("/do/resources/{uuid}", put(plan_change).delete(deprovision))
        .route("/do/notifications", post(notifications))
        .route("/do/sso", post(sso))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "nothing here") })
        .with_state(addon);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn manifest() -> String {
    json!({
        "id": ID, "name": "Broken DigitalOcean Add-on",
        "api": {
            "config_vars": ["BROKEN_DO_KEY"], "password": "heroku-password-0123456789abcdef", "sso_salt": "heroku-salt-0123456789abcdefghij",
            "regions": ["us"], "requires": [], "version": "3",
            "production": {"base_url": "https://broken.example/heroku/resources", "sso_url": "https://broken.example/sso/login"},
            "test": {"base_url": "http://127.0.0.1:5000/heroku/resources", "sso_url": "http://127.0.0.1:5000/sso/login"}
        }
    })
    .to_string()
}

async fn failed_checks(switch: Switch) -> Vec<String> {
    let digitalocean = DigitalOceanOptions {
        base_path: "/do".to_owned(),
        slug: Some(SLUG.to_owned()),
        password: PASSWORD.to_owned(),
        sso_salt: SALT.to_owned(),
    };
    let options = Options {
        manifest: manifest(),
        url: Some(start(switch).await),
        digitalocean: Some(digitalocean),
        ..Options::default()
    };
    let report = addon_check::run(options, |_| {}).await;
    assert_eq!(report.count(Status::Skip), 0, "{switch:?}: {:?}", report.outcomes);
    assert!(report.outcomes.iter().any(|o| o.check == "digitalocean.plans" && o.status == Status::Pass));
    assert!(report.outcomes.iter().all(|o| !o.check.starts_with("auth.")), "Heroku's checks are not run");
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
    accepting_any_password_fails_the_wrong_password_check: Switch::AcceptsAnyPassword => ["digitalocean.auth.wrong"],
    a_new_key_on_replay_fails_the_replay_check: Switch::RegeneratesOnReplay => ["digitalocean.replay"],
    accepting_any_token_fails_the_token_checks: Switch::AcceptsAnyToken =>
        ["digitalocean.sso.stale", "digitalocean.sso.wrong_token"],
    ignoring_suspension_fails_the_suspension_check: Switch::IgnoresSuspension => ["digitalocean.suspension"],
    a_5xx_for_an_unknown_notification_fails_its_check: Switch::ServerErrorOnUnknownNotification =>
        ["digitalocean.notification.unknown"],
    a_second_deprovision_that_succeeds_fails_its_check: Switch::DeprovisionsTwice => ["digitalocean.deprovision.again"],
}
