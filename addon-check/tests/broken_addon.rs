//! Proof that the checker catches what it claims to: a small add-on written by hand with axum
//! (not with this framework), with switches that each break one rule. The healthy add-on passes
//! every check; each switch fails exactly the checks that cover its rule.
//!
//! Its plans are `hobby` and `pro`, not `test`: the checker learns them from the 422 that refuses
//! a plan it does not offer, as the runtime writes it (`{"message": ..., "plans": [...]}`).

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
    /// Refuses an unknown plan without listing its plans, as an add-on in another language may.
    UnlistedPlans,
}

const PLANS: [&str; 2] = ["hobby", "pro"];

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
    if !PLANS.contains(&plan) {
        return unknown_plan(addon.switch, plan);
    }
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
    if !PLANS.contains(&plan.as_str()) {
        return unknown_plan(addon.switch, &plan);
    }
    resource.plan = plan;
    Json(json!({ "message": "ok" })).into_response()
}

fn unknown_plan(switch: Switch, plan: &str) -> Response {
    let message = format!("no `{plan}` plan");
    if switch == Switch::UnlistedPlans {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, &message);
    }
    (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "message": message, "plans": PLANS }))).into_response()
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

async fn report(switch: Switch, plans: &[&str]) -> addon_check::Report {
    let url = start(switch).await;
    let plans = plans.iter().map(|p| (*p).to_owned()).collect();
    let options = Options { manifest: manifest(), url: Some(url), plans, ..Options::default() };
    addon_check::run(options, |_| {}).await
}

/// With no `--plans`: the checker learns them.
async fn failed_checks(switch: Switch) -> Vec<String> {
    let report = report(switch, &[]).await;
    assert_eq!(report.count(Status::Warn), 0, "{switch:?}: {:?}", report.outcomes);
    assert_eq!(report.count(Status::Skip), 0, "{switch:?}: {:?}", report.outcomes);
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

fn outcome<'a>(report: &'a addon_check::Report, check: &str) -> &'a addon_check::Outcome {
    report.outcomes.iter().find(|o| o.check == check).unwrap_or_else(|| panic!("no {check}: {report:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plans_are_learned_from_the_refusal_of_one_that_cannot_exist() {
    let report = report(Switch::Healthy, &[]).await;
    let plans = outcome(&report, "checker.plans");
    assert_eq!(plans.status, Status::Pass);
    assert!(plans.detail.contains("learned") && plans.detail.ends_with("hobby, pro"), "{plans:?}");
    assert_eq!(outcome(&report, "provision.unknown_plan").detail, "422, listing the plans hobby, pro");
    assert_eq!(outcome(&report, "plan_change.change").status, Status::Pass);
    assert_eq!(report.summary(), format!("{} passed, 0 failed", report.outcomes.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_list_of_plans_the_checks_that_provision_are_skipped_and_listed() {
    let report = report(Switch::UnlistedPlans, &[]).await;
    assert_eq!(report.failed(), ["checker.plans"], "{report:?}");
    let fix = outcome(&report, "checker.plans").fix.clone().unwrap();
    assert!(fix.contains("--plans"), "{fix}");
    let skipped = report.skipped();
    for check in
        ["provision.v3", "idempotency.concurrent", "sso.landing", "plan_change.change", "deprovision.ok"]
    {
        assert!(skipped.contains(&check), "{check} not skipped: {skipped:?}");
    }
    assert_eq!(skipped.len(), 21, "{skipped:?}");
    // No failure blames a cause it did not see: the only one names the missing plans.
    assert!(!report.outcomes.iter().any(|o| o.fix.as_deref().is_some_and(|f| f.contains("serialize"))));
    assert!(report.summary().ends_with(", 21 skipped"), "{}", report.summary());
    assert_eq!(outcome(&report, "deprovision.unknown").status, Status::Pass, "needs no plan, still run");

    // Told the plans, it runs everything.
    let report = self::report(Switch::UnlistedPlans, &["pro", "hobby"]).await;
    assert!(report.failed().is_empty() && report.skipped().is_empty(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_the_addon_does_not_offer_is_named_as_the_cause() {
    // The case that once printed `14 passed, 4 failed` and blamed concurrent provisioning.
    let report = report(Switch::Healthy, &["test"]).await;
    assert_eq!(report.failed(), ["checker.plans"], "{report:?}");
    let plans = outcome(&report, "checker.plans");
    assert!(plans.detail.contains("`test`") && plans.detail.contains("hobby, pro"), "{plans:?}");
    // The checks ran with the add-on's own plans instead.
    assert_eq!(outcome(&report, "provision.v3").status, Status::Pass);
    assert_eq!(outcome(&report, "idempotency.concurrent").status, Status::Pass);
}

/// The binary against the same add-on: a progress line per check on standard error when asked
/// for, the SKIP lines and the list of skipped checks on standard output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_shows_progress_and_lists_what_it_skipped() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("broken-addon-manifest.json");
    std::fs::write(&path, manifest()).unwrap();
    for (switch, code) in [(Switch::Healthy, 0), (Switch::UnlistedPlans, 1)] {
        let url = start(switch).await;
        let args = ["check", "--manifest", path.to_str().unwrap(), "--url", &url, "--progress", "always"]
            .map(str::to_owned);
        // The add-on runs on this test's runtime while the binary runs on a blocking thread.
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_addon-check")).args(args).output()
        })
        .await
        .unwrap()
        .unwrap();
        let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{switch:?}\n{out}\n{err}");
        assert!(!out.contains('\x1b') && !err.contains('\x1b'), "no colour off a terminal: {out}{err}");
        assert!(
            err.contains("[ 1] checking manifest…") && err.contains("checking provision.unknown_plan…"),
            "{err}"
        );
        // Each progress line names a check the report then gives (the manifest's, together).
        for line in err.lines() {
            let check = line.split("checking ").nth(1).and_then(|c| c.strip_suffix('…')).unwrap();
            assert!(
                check == "manifest" || out.contains(&format!("  {check} ")),
                "{check} not reported:\n{out}"
            );
        }
        let progressed = err.lines().count();
        if switch == Switch::Healthy {
            assert!(
                err.contains("checking sso.stale…") && err.contains("checking idempotency.concurrent…"),
                "{err}"
            );
            assert!(out.contains("PASS  checker.plans") && out.contains(" passed, 0 failed\n"), "{out}");
            assert!(progressed >= 30, "a line per check that talks to the add-on: {progressed}\n{err}");
        } else {
            assert!(out.contains("SKIP  provision.v3") && out.contains("21 checks skipped"), "{out}");
            assert!(out.contains("1 failed, 21 skipped"), "{out}");
            assert!(!err.contains("provision.v3"), "a skipped check does not start: {err}");
        }
    }
}
