//! DigitalOcean's calls over real HTTP, beside Heroku's on the same registry: provision (and its
//! replay), plan change, deprovision, SSO, every notification, suspension, and the grant
//! exchanged and config patched through the fake after a restart. Each test runs on SQLite and
//! on PostgreSQL (`TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use addon_runtime::prelude::*;
use addon_runtime::testing::{
    digitalocean_body, eventually, new_uuid, now, set_cookie, v3_body, FakeDigitalOcean, TestApp,
    TestDatabase,
};
use addon_runtime::{ApiKey, ApiKeyVar, App, ResourceState, Settings, Store};
use axum::routing;
use axum::Router;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CLIENT_SECRET: &str = "do-client-secret-for-tests";

/// Counts what reached the vendor, and keeps every notice it heard.
#[derive(Default)]
struct Monitor {
    provisions: AtomicUsize,
    completions: AtomicUsize,
    notices: Mutex<Vec<(String, Notice)>>,
    /// The marketplace of each sign-in.
    logins: Mutex<Vec<Marketplace>>,
    /// The marketplace of each `#[complete_provision]` job.
    completed: Mutex<Vec<Marketplace>>,
}

#[heroku_addon(
    id = "do-monitor",
    name = "DO Monitor",
    config_vars = ["DO_MONITOR_URL", "DO_MONITOR_KEY"],
    plans = ["basic", "pro", "later"],
    production = "https://do-monitor.example",
    digitalocean(base_path = "/digitalocean", slug = "do_monitor"),
    manifest = "../target/addon-tests-digitalocean-manifest.json",
)]
impl Monitor {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let n = self.provisions.fetch_add(1, Ordering::SeqCst);
        if request.plan == "later" {
            return Ok(Provisioned::later("Your monitor is being set up."));
        }
        let config = Config::new()
            .set(Self::DO_MONITOR_URL, format!("https://do-monitor.example/m/{}", request.uuid))
            .set(Self::DO_MONITOR_KEY, format!("key-{n}-{}", request.uuid));
        Ok(Provisioned::new(config).with_message(format!("Hello {}", request.email.unwrap_or_default())))
    }

    #[plan_change]
    async fn plan_change(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }

    #[complete_provision]
    async fn complete_provision(&self, job: ProvisionJob) -> Result<Config, AddonError> {
        self.completions.fetch_add(1, Ordering::SeqCst);
        self.completed.lock().unwrap().push(job.marketplace);
        Ok(Config::new()
            .set(Self::DO_MONITOR_URL, format!("https://do-monitor.example/m/{}", job.uuid))
            .set(Self::DO_MONITOR_KEY, "async-key"))
    }

    #[sso]
    async fn sso(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        self.logins.lock().unwrap().push(login.marketplace);
        Ok(SsoRedirect::to("/dashboard"))
    }

    #[notification]
    async fn notification(&self, notification: Notification) -> Result<(), AddonError> {
        self.notices.lock().unwrap().push((notification.uuid, notification.notice));
        Ok(())
    }
}

impl ApiKeyVar<Store> for Monitor {
    const VAR: ConfigVar = Monitor::DO_MONITOR_KEY;

    fn store(state: &Store) -> &Store {
        state
    }
}

/// The app with a page behind a session and an API behind the key, on `database`.
async fn serve(database: &TestDatabase, monitor: Arc<Monitor>, settings: Settings, jobs: bool) -> TestApp {
    TestApp::build_on(database, async move |store: Store| {
        let routes = Router::new()
            .route("/dashboard", routing::get(|session: Session| async move { session.uuid().to_owned() }))
            .route("/api/me", routing::get(|key: ApiKey<Monitor>| async move { key.resource().uuid.clone() }))
            .with_state(store.clone());
        let app = App::new(monitor, settings, store)?.with_routes(routes);
        Ok::<_, addon_runtime::Error>(if jobs { app } else { app.without_job_runner() })
    })
    .await
}

const HEROKU_PASSWORD: &str = "heroku-password-0123456789abcdefgh";

async fn start(database: TestDatabase) -> (TestApp, Arc<Monitor>) {
    let monitor = Arc::new(Monitor::default());
    let settings = Settings::development(HEROKU_PASSWORD, addon_runtime::random_secret());
    let app = serve(&database, monitor.clone(), settings, true).await;
    (app, monitor)
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::postgres().await).await
                }
            )*
        }
    };
}

on_both_databases!(
    provision_is_answered_once_and_replays_get_the_same_bytes,
    refusals_are_json_for_people,
    plan_change_and_deprovision,
    a_suspended_resource_keeps_its_data_and_is_refused_until_reactivated,
    sso_tokens_are_checked,
    notifications_are_recorded_and_unknown_types_refused,
    the_grant_is_exchanged_and_config_patched_after_a_restart,
    the_vendor_suspends_a_heroku_resource_through_the_store,
    an_expired_token_is_refreshed_before_the_config_patch,
);

async fn body(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

async fn provision_is_answered_once_and_replays_get_the_same_bytes(database: TestDatabase) {
    let (app, monitor) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    let first = digitalocean.provision(&digitalocean_body(&uuid, "basic")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    let answer: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(answer["id"], uuid.as_str());
    assert_eq!(answer["config"]["DO_MONITOR_URL"], format!("https://do-monitor.example/m/{uuid}"));
    assert_eq!(answer["message"], "Hello user-123@users.digitalocean.example");
    assert!(answer.get("log_drain_url").is_none());

    let replay = digitalocean.provision(&digitalocean_body(&uuid, "basic")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.bytes().await.unwrap(), first, "the replay is the recorded answer, byte for byte");
    assert_eq!(monitor.provisions.load(Ordering::SeqCst), 1, "the vendor was called once");

    let record = app.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!((record.marketplace, record.plan.as_str()), (Marketplace::DigitalOcean, "basic"));
    assert_eq!(record.options["language"], "en");

    // Heroku cannot take DigitalOcean's resource over, nor reach it.
    assert_eq!(app.heroku.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.heroku.deprovision(&uuid).await.status(), StatusCode::NOT_FOUND);
}

async fn refusals_are_json_for_people(database: TestDatabase) {
    let (app, _) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    let wrong = app
        .client
        .post(format!("{}/digitalocean/resources", app.url))
        .basic_auth("do_monitor", Some("wrong"))
        .json(&digitalocean_body(&uuid, "basic"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(body(wrong).await["message"].as_str().unwrap().contains("DigitalOcean"));
    // Heroku's credentials do not open DigitalOcean's routes.
    let heroku_user = app
        .client
        .post(format!("{}/digitalocean/resources", app.url))
        .basic_auth("do-monitor", Some(HEROKU_PASSWORD))
        .json(&digitalocean_body(&uuid, "basic"))
        .send()
        .await
        .unwrap();
    assert_eq!(heroku_user.status(), StatusCode::UNAUTHORIZED);

    let unknown_plan = digitalocean.provision(&digitalocean_body(&uuid, "gold")).await;
    assert_eq!(unknown_plan.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(unknown_plan).await["message"].as_str().unwrap().contains("gold"));
    let no_plan = digitalocean.provision(&json!({ "uuid": uuid })).await;
    assert!(no_plan.status().is_client_error(), "{}", no_plan.status());
    assert!(body(no_plan).await["message"].as_str().unwrap().contains("plan_slug"));
    let not_json = digitalocean
        .request(reqwest::Method::POST, "/resources")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert!(body(not_json).await["message"].is_string());
    let missing = digitalocean.plan_change(&new_uuid(), "pro").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(body(missing).await["message"].is_string());
}

async fn plan_change_and_deprovision(database: TestDatabase) {
    let (app, _) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    assert_eq!(digitalocean.provision(&digitalocean_body(&uuid, "basic")).await.status(), StatusCode::OK);
    assert_eq!(digitalocean.plan_change(&uuid, "pro").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.store.resource(&uuid).await.unwrap().unwrap().plan, "pro");
    assert_eq!(
        digitalocean.plan_change(&uuid, "pro").await.status(),
        StatusCode::NO_CONTENT,
        "already on it"
    );
    assert_eq!(digitalocean.plan_change(&uuid, "gold").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Heroku's plan change cannot reach DigitalOcean's resource.
    assert_eq!(app.heroku.plan_change(&uuid, "basic").await.status(), StatusCode::NOT_FOUND);

    let removed = digitalocean.deprovision(&uuid).await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(body(removed).await, json!({}));
    assert_eq!(digitalocean.deprovision(&uuid).await.status(), StatusCode::GONE);
    let record = app.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.state, ResourceState::Deprovisioned);
}

/// Signs in through DigitalOcean's form; the session cookie's `name=value`.
async fn sign_in(app: &TestApp, uuid: &str) -> Result<String, (StatusCode, Value)> {
    let digitalocean = app.digitalocean();
    let response = digitalocean.sso_post(&digitalocean.sso_form(uuid, now())).await;
    if response.status() != StatusCode::SEE_OTHER {
        let status = response.status();
        return Err((status, body(response).await));
    }
    assert_eq!(response.headers()["location"], "/dashboard");
    let cookie = set_cookie(&response, "addon_session").expect("a session cookie");
    Ok(addon_runtime::testing::cookie_pair(cookie))
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, String)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.url)).header("Accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

async fn a_suspended_resource_keeps_its_data_and_is_refused_until_reactivated(database: TestDatabase) {
    let (app, monitor) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    let answer = body(digitalocean.provision(&digitalocean_body(&uuid, "basic")).await).await;
    let key = answer["config"]["DO_MONITOR_KEY"].as_str().unwrap().to_owned();
    let bearer = [("Authorization", format!("Bearer {key}"))];

    let cookie = sign_in(&app, &uuid).await.expect("signed in");
    let session = [("Cookie", cookie.clone())];
    assert_eq!(get(&app, "/dashboard", &session).await.status(), StatusCode::OK);
    assert_eq!(get(&app, "/api/me", &bearer).await.text().await.unwrap(), uuid);

    let suspended = digitalocean.notify_resources("resources.suspended", &[&uuid]).await;
    assert_eq!(suspended.status(), StatusCode::OK);
    let (status, refusal) =
        sign_in(&app, &uuid).await.expect_err("a suspended resource's sign-in is refused");
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refusal["message"].as_str().unwrap().contains("suspended"), "{refusal}");
    let page = get(&app, "/dashboard", &session).await;
    assert!(page.status().is_client_error(), "{}", page.status());
    assert!(page.text().await.unwrap().contains("suspended"));
    let api = get(&app, "/api/me", &bearer).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert!(body(api).await["message"].as_str().unwrap().contains("suspended"));
    let record = app.store.resource(&uuid).await.unwrap().unwrap();
    assert!(record.suspended_at.is_some());
    assert_eq!(
        (record.state, record.config_var("DO_MONITOR_KEY")),
        (ResourceState::Provisioned, Some(key.as_str()))
    );

    let reactivated = digitalocean.notify_resources("resources.reactivated", &[&uuid]).await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    assert!(sign_in(&app, &uuid).await.is_ok(), "signs in again once reactivated");
    assert_eq!(
        get(&app, "/dashboard", &session).await.status(),
        StatusCode::OK,
        "the old session works again"
    );
    assert_eq!(get(&app, "/api/me", &bearer).await.status(), StatusCode::OK);
    let notices = monitor.notices.lock().unwrap().clone();
    assert_eq!(notices, [(uuid.clone(), Notice::Suspended), (uuid, Notice::Reactivated)]);
    assert_eq!(*monitor.logins.lock().unwrap(), [Marketplace::DigitalOcean, Marketplace::DigitalOcean]);
}

async fn sso_tokens_are_checked(database: TestDatabase) {
    let (app, _) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    assert_eq!(digitalocean.provision(&digitalocean_body(&uuid, "basic")).await.status(), StatusCode::OK);
    let mut forged = digitalocean.sso_form(&uuid, now());
    forged[1].1 = "0".repeat(64);
    assert_eq!(digitalocean.sso_post(&forged).await.status(), StatusCode::FORBIDDEN);
    let stale = digitalocean.sso_form(&uuid, now() - 3600);
    let refused = digitalocean.sso_post(&stale).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(body(refused).await["message"].as_str().unwrap().contains("expired"));
    let unknown = digitalocean.sso_post(&digitalocean.sso_form(&new_uuid(), now())).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // A Heroku resource cannot be signed in to through DigitalOcean's form.
    let heroku_uuid = new_uuid();
    assert_eq!(app.heroku.provision(&v3_body(&heroku_uuid, "basic")).await.status(), StatusCode::OK);
    let other = digitalocean.sso_post(&digitalocean.sso_form(&heroku_uuid, now())).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

async fn notifications_are_recorded_and_unknown_types_refused(database: TestDatabase) {
    let (app, monitor) = start(database).await;
    let digitalocean = app.digitalocean();
    let uuid = new_uuid();
    assert_eq!(digitalocean.provision(&digitalocean_body(&uuid, "basic")).await.status(), StatusCode::OK);

    let payload = json!({
        "resource": {"uuid": uuid, "name": "renamed", "state": "provisioned", "created_at": 1, "updated_at": 2},
        "plan": {"slug": "pro", "display_name": "Pro", "created_at": 1, "updated_at": 2},
    });
    assert_eq!(digitalocean.notify("resources.updated", payload).await.status(), StatusCode::OK);
    let record = app.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!((record.plan.as_str(), record.name.as_deref()), ("pro", Some("renamed")));

    // The payload as a string holding the object, as DigitalOcean's own sample types it.
    let as_text = json!({ "resources_uuids": [uuid] }).to_string();
    let failed = digitalocean.notify("resources.deprovisioning.failed", Value::String(as_text)).await;
    assert_eq!(failed.status(), StatusCode::OK);
    let deprovision_failed: Option<i64> = sqlx_scalar(
        &app.store,
        "SELECT deprovision_failed_at AS v FROM addon_resources WHERE uuid = $1",
        &uuid,
    )
    .await;
    assert!(deprovision_failed.is_some(), "recorded");

    let unknown = digitalocean.notify("resources.exploded", json!({})).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = body(unknown).await["message"].as_str().unwrap().to_owned();
    assert!(message.contains("resources.exploded") && message.contains("resources.suspended"), "{message}");
    let malformed = digitalocean.notify("resources.suspended", json!({ "uuids": [uuid] })).await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(malformed).await["message"].as_str().unwrap().contains("resources_uuids"));
    let undeclared_plan = json!({ "resource": {"uuid": uuid}, "plan": {"slug": "gold"} });
    assert_eq!(
        digitalocean.notify("resources.updated", undeclared_plan).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let stranger = digitalocean.notify_resources("resources.suspended", &[&new_uuid()]).await;
    assert_eq!(stranger.status(), StatusCode::OK);
    assert!(body(stranger).await["message"].as_str().unwrap().contains("1 unknown"));
    let unauthenticated = app
        .client
        .post(format!("{}/digitalocean/notifications", app.url))
        .json(&json!({ "type": "resources.suspended", "payload": { "resources_uuids": [uuid] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert!(app.store.resource(&uuid).await.unwrap().unwrap().suspended_at.is_none());

    let notices = monitor.notices.lock().unwrap().clone();
    let expected_update = Notice::Updated { plan: Some("pro".into()), name: Some("renamed".into()) };
    assert_eq!(notices, [(uuid.clone(), expected_update), (uuid, Notice::DeprovisioningFailed)]);
}

async fn sqlx_scalar(store: &Store, sql: &str, uuid: &str) -> Option<i64> {
    use sqlx::Row;
    let row = sqlx::query(sql).bind(uuid).fetch_one(store.pool()).await.unwrap();
    row.try_get::<Option<i64>, _>("v").unwrap()
}

async fn the_grant_is_exchanged_and_config_patched_after_a_restart(database: TestDatabase) {
    let fake = FakeDigitalOcean::start(CLIENT_SECRET).await;
    let settings = TestApp::settings().with_digitalocean_api(fake.url(), CLIENT_SECRET);
    let uuid = new_uuid();
    let first_monitor = Arc::new(Monitor::default());
    let first = serve(&database, first_monitor.clone(), settings.clone(), false).await;
    let mut request = digitalocean_body(&uuid, "later");
    request["oauth_grant"] =
        json!({ "type": "authorization_code", "code": fake.grant(&uuid), "expires_at": now() + 300 });
    let accepted = first.digitalocean().provision(&request).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert_eq!(body(accepted).await["message"], "Your monitor is being set up.");
    drop(first);
    assert_eq!(fake.calls().len(), 0, "the first server ran no job");

    let monitor = Arc::new(Monitor::default());
    let second = serve(&database, monitor.clone(), settings, true).await;
    let patched = async || fake.config(&uuid).get("DO_MONITOR_KEY").map(String::as_str) == Some("async-key");
    assert!(eventually(Duration::from_secs(20), patched).await, "config patched: {:?}", fake.calls());
    assert_eq!(fake.succeeded("POST", "/v2/add-ons/oauth/token"), 1, "the grant was exchanged once");
    assert_eq!(fake.succeeded("PATCH", &format!("/v2/add-ons/resources/{uuid}/config")), 1);
    assert_eq!(monitor.completions.load(Ordering::SeqCst), 1);
    assert_eq!(*monitor.completed.lock().unwrap(), [Marketplace::DigitalOcean]);
    let live = async || {
        second.store.resource(&uuid).await.unwrap().is_some_and(|r| r.state == ResourceState::Provisioned)
    };
    assert!(eventually(Duration::from_secs(5), live).await, "the resource is live");
    assert_eq!(first_monitor.completions.load(Ordering::SeqCst), 0);
}

async fn the_vendor_suspends_a_heroku_resource_through_the_store(database: TestDatabase) {
    let (app, monitor) = start(database).await;
    let uuid = new_uuid();
    assert_eq!(app.heroku.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    let form = || app.heroku.sso_form(addon_runtime::TokenKind::UserScoped, &uuid, now());
    assert_eq!(app.heroku.sso_post(&form()).await.status(), StatusCode::SEE_OTHER);

    assert!(app.store.suspend(&uuid).await.unwrap());
    assert!(!app.store.suspend(&uuid).await.unwrap(), "already suspended");
    assert!(app.store.suspended_since(&uuid).await.unwrap().is_some());
    let refused = app.heroku.sso_post(&form()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(body(refused).await["message"].as_str().unwrap().contains("suspended"));
    // DigitalOcean's notifications cannot reach a Heroku resource.
    let other = app.digitalocean().notify_resources("resources.reactivated", &[&uuid]).await;
    assert!(body(other).await["message"].as_str().unwrap().contains("1 unknown"));
    assert!(app.store.suspended_since(&uuid).await.unwrap().is_some());

    assert!(app.store.reactivate(&uuid).await.unwrap());
    assert_eq!(app.heroku.sso_post(&form()).await.status(), StatusCode::SEE_OTHER);
    assert!(monitor.notices.lock().unwrap().is_empty(), "the vendor's own suspension is not a notice");
    assert_eq!(*monitor.logins.lock().unwrap(), [Marketplace::Heroku, Marketplace::Heroku]);
}

#[test]
fn production_needs_digitalocean_s_secrets_when_listed() {
    let base = [
        ("ADDON_ENV", "production"),
        ("ADDON_PASSWORD", "heroku-password-0123456789abcdef"),
        ("ADDON_SSO_SALT", "heroku-sso-salt-0123456789abcdef"),
        ("ADDON_SESSION_KEY", "a-session-key-of-32-characters-at-least"),
    ];
    let read = |extra: &[(&str, &str)]| {
        let vars: std::collections::HashMap<String, String> =
            base.iter().chain(extra).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Settings::from_vars::<Monitor>(move |name| vars.get(name).cloned())
    };
    let missing = read(&[]).unwrap_err().to_string();
    assert!(missing.contains("ADDON_DO_PASSWORD") && missing.contains("ADDON_DO_SSO_SALT"), "{missing}");
    let secrets = [
        ("ADDON_DO_PASSWORD", "do-password-0123456789abcdefghij"),
        ("ADDON_DO_SSO_SALT", "do-sso-salt-0123456789abcdefghij"),
    ];
    let settings = read(&secrets).unwrap();
    assert_eq!(
        settings.digitalocean_secrets(),
        ("do-password-0123456789abcdefghij", "do-sso-salt-0123456789abcdefghij")
    );
    let debug = format!("{settings:?}");
    assert!(!debug.contains("do-password") && !debug.contains("do-sso-salt"), "{debug}");
    let without_token_key = read(&[secrets[0], secrets[1], ("ADDON_DO_CLIENT_SECRET", "do-client-secret")]);
    assert!(without_token_key.unwrap_err().to_string().contains("ADDON_TOKEN_KEY"));
    let with_token_key = read(&[
        secrets[0],
        secrets[1],
        ("ADDON_DO_CLIENT_SECRET", "do-client-secret"),
        ("ADDON_TOKEN_KEY", "a-token-key-of-32-characters-at-least!"),
    ]);
    assert!(with_token_key.is_ok(), "{with_token_key:?}");
}

async fn an_expired_token_is_refreshed_before_the_config_patch(database: TestDatabase) {
    let fake = FakeDigitalOcean::start(CLIENT_SECRET).await;
    fake.set_grant_token_lifetime(0);
    let settings = TestApp::settings().with_digitalocean_api(fake.url(), CLIENT_SECRET);
    let app = serve(&database, Arc::new(Monitor::default()), settings, true).await;
    let uuid = new_uuid();
    let mut request = digitalocean_body(&uuid, "later");
    request["oauth_grant"] = json!({ "type": "authorization_code", "code": fake.grant(&uuid) });
    assert_eq!(app.digitalocean().provision(&request).await.status(), StatusCode::ACCEPTED);
    let patched = async || fake.succeeded("PATCH", &format!("/v2/add-ons/resources/{uuid}/config")) == 1;
    assert!(eventually(Duration::from_secs(20), patched).await, "config patched: {:?}", fake.calls());
    let exchanges: Vec<Value> = fake
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/oauth/token"))
        .map(|c| serde_json::from_str(&c.body).unwrap())
        .collect();
    let kinds: Vec<&str> = exchanges.iter().map(|e| e["grant_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["authorization_code", "refresh_token"], "{:?}", fake.calls());
    assert!(exchanges.iter().all(|e| e["client_secret"] == CLIENT_SECRET));
}
