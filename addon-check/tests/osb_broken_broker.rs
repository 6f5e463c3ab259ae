//! Proof that `addon-check osb` catches what it claims to: a small broker written by hand with
//! axum (not with this framework), asynchronous like most real ones, with switches that each
//! break one rule of the OSB API. The healthy broker passes every check; each switch fails
//! exactly the checks that cover its rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use addon_check::osb::{run, OsbOptions};
use addon_check::Status;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

const USER: &str = "platform";
const PASSWORD: &str = "broker-password-0123456789";
const SERVICE: &str = "5d2a7f1e-2c4b-4e8a-9f6d-3b1c0a9e8d7f";
const PLANS: [&str; 2] = ["a1c3e5f7-0000-4000-8000-00000000000a", "b2d4f6a8-0000-4000-8000-00000000000b"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    Healthy,
    AcceptsAnyPassword,
    IgnoresVersion,
    AsyncWithoutAsking,
    RepeatIsCreated,
    NoConflict,
    NewCredentialsOnRebind,
    NoGone,
    BareErrors,
    NeverFinishes,
}

#[derive(Default)]
struct Instance {
    body: Value,
    polls: u32,
}

struct Broker {
    switch: Switch,
    instances: Mutex<HashMap<String, Instance>>,
    bindings: Mutex<HashMap<String, (Value, Value)>>,
    minted: Mutex<u32>,
}

type Shared = Arc<Broker>;

impl Broker {
    fn refuse(&self, status: StatusCode, error: Option<&str>, message: &str) -> Response {
        // Bare errors say it as `message`, as Heroku's API does, not `description`.
        let field = if self.switch == Switch::BareErrors { "message" } else { "description" };
        let mut body = json!({ field: message });
        if let Some(error) = error {
            body["error"] = error.into();
        }
        (status, Json(body)).into_response()
    }

    /// Auth, then the version header: `Some(refusal)` when a check fails.
    fn gate(&self, headers: &HeaderMap) -> Option<Response> {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let authorized = match self.switch {
            Switch::AcceptsAnyPassword => sent.is_some(),
            _ => sent == Some(expected.as_str()),
        };
        if !authorized {
            return Some(self.refuse(StatusCode::UNAUTHORIZED, None, "bad credentials"));
        }
        let version = headers.get("x-broker-api-version").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if self.switch != Switch::IgnoresVersion && !version.starts_with("2.") {
            return Some(self.refuse(
                StatusCode::PRECONDITION_FAILED,
                None,
                "send X-Broker-API-Version: 2.x",
            ));
        }
        None
    }
}

fn empty(status: StatusCode) -> Response {
    (status, Json(json!({}))).into_response()
}

async fn catalog(State(b): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    let plans: Vec<Value> = PLANS
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"id": id, "name": format!("plan-{i}"), "description": "A plan"}))
        .collect();
    Json(json!({"services": [{
        "id": SERVICE, "name": "broken-broker", "description": "A broker for the checker's proof", "bindable": true,
        "plan_updateable": true, "instances_retrievable": true, "bindings_retrievable": true, "plans": plans,
    }]}))
    .into_response()
}

async fn provision(
    State(b): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    if body["service_id"] != SERVICE {
        return b.refuse(StatusCode::BAD_REQUEST, None, "unknown service_id");
    }
    let incomplete = query.get("accepts_incomplete").map(String::as_str) == Some("true");
    if !incomplete && b.switch != Switch::AsyncWithoutAsking {
        return b.refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("AsyncRequired"),
            "this broker is asynchronous",
        );
    }
    let mut instances = b.instances.lock().unwrap();
    if let Some(existing) = instances.get(&id) {
        if existing.body != body && b.switch != Switch::NoConflict {
            return b.refuse(StatusCode::CONFLICT, None, "the instance exists with other attributes");
        }
        let status = if b.switch == Switch::RepeatIsCreated { StatusCode::CREATED } else { StatusCode::OK };
        return empty(status);
    }
    instances.insert(id, Instance { body, polls: 0 });
    (StatusCode::ACCEPTED, Json(json!({"operation": "provision"}))).into_response()
}

async fn last_operation(State(b): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    let mut instances = b.instances.lock().unwrap();
    let Some(instance) = instances.get_mut(&id) else { return empty(StatusCode::GONE) };
    instance.polls += 1;
    let state =
        if instance.polls < 2 || b.switch == Switch::NeverFinishes { "in progress" } else { "succeeded" };
    Json(json!({ "state": state })).into_response()
}

async fn fetch(State(b): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    match b.instances.lock().unwrap().get(&id) {
        Some(instance) => {
            Json(json!({"service_id": SERVICE, "plan_id": instance.body["plan_id"]})).into_response()
        }
        None => b.refuse(StatusCode::NOT_FOUND, None, "no such instance"),
    }
}

async fn update(
    State(b): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    match b.instances.lock().unwrap().get_mut(&id) {
        Some(instance) => {
            instance.body["plan_id"] = body["plan_id"].clone();
            empty(StatusCode::OK)
        }
        None => b.refuse(StatusCode::NOT_FOUND, None, "no such instance"),
    }
}

async fn deprovision(State(b): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    let removed = b.instances.lock().unwrap().remove(&id).is_some();
    if removed || b.switch == Switch::NoGone {
        empty(StatusCode::OK)
    } else {
        empty(StatusCode::GONE)
    }
}

async fn bind(
    State(b): State<Shared>,
    Path((_, binding)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    let mut minted = b.minted.lock().unwrap();
    *minted += 1;
    let fresh = json!({ "uri": format!("kv://user{minted}:secret@kv.example") });
    let mut bindings = b.bindings.lock().unwrap();
    match bindings.get_mut(&binding) {
        Some((existing, _)) if *existing != body => {
            b.refuse(StatusCode::CONFLICT, None, "the binding exists with other attributes")
        }
        Some((_, credentials)) => {
            if b.switch == Switch::NewCredentialsOnRebind {
                *credentials = fresh;
            }
            Json(json!({ "credentials": credentials })).into_response()
        }
        None => {
            bindings.insert(binding, (body, fresh.clone()));
            (StatusCode::CREATED, Json(json!({ "credentials": fresh }))).into_response()
        }
    }
}

async fn fetch_binding(
    State(b): State<Shared>,
    Path((_, binding)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    match b.bindings.lock().unwrap().get(&binding) {
        Some((_, credentials)) => Json(json!({ "credentials": credentials })).into_response(),
        None => b.refuse(StatusCode::NOT_FOUND, None, "no such binding"),
    }
}

async fn unbind(
    State(b): State<Shared>,
    Path((_, binding)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = b.gate(&headers) {
        return refusal;
    }
    let removed = b.bindings.lock().unwrap().remove(&binding).is_some();
    empty(if removed { StatusCode::OK } else { StatusCode::GONE })
}

async fn start(switch: Switch) -> String {
    let broker = Arc::new(Broker {
        switch,
        instances: Mutex::default(),
        bindings: Mutex::default(),
        minted: Mutex::default(),
    });
    let app = Router::new()
        .route("/v2/catalog", get(catalog))
        .route("/v2/service_instances/{id}", put(provision).get(fetch).patch(update).delete(deprovision))
        .route("/v2/service_instances/{id}/last_operation", get(last_operation))
        .route(
            "/v2/service_instances/{id}/service_bindings/{binding}",
            put(bind).get(fetch_binding).delete(unbind),
        )
        .with_state(broker);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn failures(switch: Switch) -> Vec<String> {
    let options = OsbOptions {
        url: start(switch).await,
        username: USER.to_owned(),
        password: PASSWORD.to_owned(),
        patience: Duration::from_secs(2),
    };
    let report = run(options, |_| {}).await;
    assert!(report.count(Status::Pass) > 5, "{switch:?}: {:#?}", report.outcomes);
    for outcome in report.outcomes.iter().filter(|o| o.status == Status::Fail) {
        eprintln!("{switch:?}: {}", outcome.line());
    }
    let mut failed: Vec<String> = report.failed().into_iter().map(str::to_owned).collect();
    failed.sort();
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healthy_broker_passes_and_each_switch_fails_its_checks() {
    assert_eq!(failures(Switch::Healthy).await, Vec::<String>::new(), "the healthy broker");
    let cases: [(Switch, &[&str]); 9] = [
        (Switch::AcceptsAnyPassword, &["osb.auth.wrong"]),
        (Switch::IgnoresVersion, &["osb.version.missing", "osb.version.unsupported"]),
        (Switch::AsyncWithoutAsking, &["osb.provision.async_required"]),
        (Switch::RepeatIsCreated, &["osb.provision.identical"]),
        (Switch::NoConflict, &["osb.provision.conflict"]),
        (Switch::NewCredentialsOnRebind, &["osb.bind.identical", "osb.fetch.binding"]),
        (Switch::NoGone, &["osb.deprovision.gone", "osb.deprovision.unknown"]),
        (Switch::BareErrors, &["osb.errors.described"]),
        (Switch::NeverFinishes, &["osb.last_operation"]),
    ];
    for (switch, expected) in cases {
        assert_eq!(failures(switch).await, expected, "{switch:?}");
    }
}
