//! Asynchronous provisioning against a fake of Heroku's side: 202, the grant exchange, the
//! config set through the Platform API, the provision action; retries, refresh, restarts,
//! several instances, and Heroku's twelve-hour limit.

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::{App, Clock, ManualClock, ResourceState, Settings, Store};
use addon_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CLIENT_SECRET: &str = "oauth-client-secret-for-tests";
const PATIENCE: Duration = Duration::from_secs(20);
/// How long a step inside one job may take to show.
const SHORT_WAIT: Duration = Duration::from_secs(5);

fn settings(heroku: &FakeHeroku) -> Settings {
    Settings::development(PASSWORD, SALT)
        .with_heroku_urls(heroku.url(), heroku.url())
        .with_oauth_client_secret(CLIENT_SECRET)
        .with_job_poll(Duration::from_millis(20))
}

async fn start(heroku: &FakeHeroku, database: &TestDatabase) -> TestServer {
    TestServer::start_on(settings(heroku), database).await
}

fn body_with_grant(heroku: &FakeHeroku, uuid: &str, plan: &str) -> Value {
    let mut body = v3_body(uuid, plan);
    body["oauth_grant"] = json!({"code": heroku.grant(uuid), "expires_at": "2026-11-27T18:01:31-0800", "type": "authorization_code"});
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_202_ends_with_the_config_set_and_the_provision_action_called() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    let response = server.provision(&body_with_grant(&heroku, &uuid, "later")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(
        accepted,
        json!({"id": uuid, "message": "Your resource is being created."}),
        "no config in a 202"
    );

    assert!(heroku.wait_for_state(&uuid, "provisioned", PATIENCE).await, "{:?}", heroku.calls());
    // From the moment Heroku sees the action it may send a plan change or an SSO: the registry
    // must already say the resource is ready.
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.state, ResourceState::Provisioned);
    assert_eq!(record.config_var("TEST_ADDON_TOKEN"), Some("async-token-1"));
    let config = heroku.config(&uuid);
    assert_eq!(
        config["TEST_ADDON_URL"].as_deref(),
        Some(format!("https://test-addon.example/r/{uuid}").as_str())
    );
    assert_eq!(config["TEST_ADDON_TOKEN"].as_deref(), Some("async-token-1"));
    // In order: the grant exchange, the config, then the action that restarts the app.
    let order: Vec<String> = heroku.calls().iter().map(|c| format!("{} {}", c.method, c.path)).collect();
    let position = |wanted: &str| {
        order.iter().position(|c| c == wanted).unwrap_or_else(|| panic!("{wanted} in {order:?}"))
    };
    assert!(position("POST /oauth/token") < position(&format!("PATCH /addons/{uuid}/config")));
    assert!(
        position(&format!("PATCH /addons/{uuid}/config"))
            < position(&format!("POST /addons/{uuid}/actions/provision"))
    );

    let history = finished_jobs(&server.store, &uuid).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!((history[0].0.as_str(), history[0].1.as_str()), ("provision", "done"));
    // A replay of the provision still gets the 202 it got the first time, and calls nothing.
    let replay = server.provision(&body_with_grant(&heroku, &uuid, "later")).await;
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
    assert_eq!(TestAddon::calls(&server.addon.completions), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_202_carries_the_log_drain_the_vendor_gave_and_never_a_malformed_one() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    let response = server.provision(&body_with_grant(&heroku, &uuid, "later-drain")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["log_drain_url"], "https://test-addon.example/drain");
    assert!(accepted.get("config").is_none());

    let uuid = new_uuid();
    let response = server.provision(&body_with_grant(&heroku, &uuid, "later-bad-drain")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(json_message(response).await.contains("invalid answer"));
    assert!(server.store.resource(&uuid).await.unwrap().is_none(), "nothing recorded");
    assert!(server.store.job_history(&uuid).await.unwrap().is_empty(), "no job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_exchange_failing_twice_still_finishes() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    heroku.fail_next("/oauth/token", 1, 503);
    heroku.fail_next("/oauth/token", 1, 429);
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    assert_eq!(
        server.provision(&body_with_grant(&heroku, &uuid, "later")).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(heroku.wait_for_state(&uuid, "provisioned", PATIENCE).await, "{:?}", heroku.calls());
    let exchanges: Vec<u16> =
        heroku.calls().iter().filter(|c| c.path == "/oauth/token").map(|c| c.status).collect();
    assert_eq!(exchanges, [503, 429, 200]);
    let history = finished_jobs(&server.store, &uuid).await;
    assert_eq!(history.len(), 1);
    let (kind, state, attempts, last_error) = &history[0];
    assert_eq!((kind.as_str(), state.as_str(), *attempts), ("provision", "done", 3));
    assert!(last_error.as_deref().unwrap_or_default().contains("429"), "{last_error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_grant_fails_the_job_at_once_instead_of_for_twelve_hours() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    let mut body = v3_body(&uuid, "later");
    // A code the fake never issued: Heroku answers 400, and no retry can change that.
    body["oauth_grant"] = json!({"code": "not-a-grant", "type": "authorization_code"});
    assert_eq!(server.provision(&body).await.status(), StatusCode::ACCEPTED);
    let history = finished_jobs(&server.store, &uuid).await;
    let (kind, state, attempts, last_error) = &history[0];
    assert_eq!((kind.as_str(), state.as_str(), *attempts), ("provision", "failed", 1), "{history:?}");
    let last_error = last_error.as_deref().unwrap_or_default();
    assert!(last_error.starts_with("not retried") && last_error.contains("400"), "{last_error}");
    assert_eq!(server.store.resource(&uuid).await.unwrap().unwrap().state, ResourceState::Failed);
    assert_eq!(heroku.count("POST", "/oauth/token"), 1, "asked once: {:?}", heroku.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_action_fails_the_job_and_a_transient_one_is_retried() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    heroku.fail_next("/actions/provision", 1, 408);
    heroku.fail_next("/actions/provision", 1, 422);
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    assert_eq!(
        server.provision(&body_with_grant(&heroku, &uuid, "later")).await.status(),
        StatusCode::ACCEPTED
    );
    let history = finished_jobs(&server.store, &uuid).await;
    let (_, state, attempts, last_error) = &history[0];
    assert_eq!((state.as_str(), *attempts), ("failed", 2), "a 408 is retried, a 422 is not: {history:?}");
    assert!(last_error.as_deref().unwrap_or_default().contains("422"), "{last_error:?}");
    let actions: Vec<u16> =
        heroku.calls().iter().filter(|c| c.path.ends_with("/actions/provision")).map(|c| c.status).collect();
    assert_eq!(actions, [408, 422]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_before_use() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    heroku.set_grant_token_lifetime(Duration::ZERO);
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    assert_eq!(
        server.provision(&body_with_grant(&heroku, &uuid, "later")).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(heroku.wait_for_state(&uuid, "provisioned", PATIENCE).await, "{:?}", heroku.calls());
    let calls = heroku.calls();
    assert!(calls.iter().any(|c| c.path == "/oauth/token" && c.body.contains("grant_type=refresh_token")));
    let patch = calls.iter().find(|c| c.method == "PATCH").unwrap();
    assert!(patch.refreshed_token && patch.status == 200, "{patch:?}");
    assert!(calls.iter().all(|c| c.status != 401), "no call went out with an expired token: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_hours_of_failure_marks_the_resource_failed() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    heroku.fail_next("/actions/provision", usize::MAX, 503);
    let database = TestDatabase::sqlite();
    let store = database.store().await;
    let clock = ManualClock::default();
    let addon = Arc::new(TestAddon::default());
    let app = App::new(addon, settings(&heroku), store.clone()).unwrap().with_clock(Arc::new(clock.clone()));
    let server = TestApp::serve(app).await;
    let uuid = new_uuid();
    let started = clock.now_ms();
    assert_eq!(
        server.provision(&body_with_grant(&heroku, &uuid, "later")).await.status(),
        StatusCode::ACCEPTED
    );

    // Half an hour of simulated time at a step, until the runner gives up.
    let mut failed_at = None;
    for _ in 0..40 {
        wait_for_attempt(&heroku).await;
        if store.resource(&uuid).await.unwrap().unwrap().state == ResourceState::Failed {
            failed_at = Some(clock.now_ms());
            break;
        }
        clock.advance(Duration::from_secs(30 * 60));
    }
    let failed_at = failed_at.expect("the resource is marked failed");
    assert!(failed_at - started >= 12 * 60 * 60 * 1000, "not before twelve hours");
    let history = store.job_history(&uuid).await.unwrap();
    let (_, state, attempts, last_error) = &history[0];
    assert_eq!(state, "failed");
    assert!(*attempts > 10, "retried all along: {attempts}");
    assert!(last_error.as_deref().unwrap_or_default().contains("503"));
    assert_eq!(heroku.addon_state(&uuid).as_deref(), Some("provisioning"));
}

/// The resource's jobs once none is pending any more (the fake sees the last call a moment
/// before the runner records the outcome).
async fn finished_jobs(store: &Store, uuid: &str) -> Vec<(String, String, i64, Option<String>)> {
    let settled =
        async || store.job_history(uuid).await.unwrap().iter().all(|(_, state, _, _)| state != "pending");
    let done = eventually(SHORT_WAIT, settled).await;
    let history = store.job_history(uuid).await.unwrap();
    assert!(done, "jobs still pending: {history:?}");
    history
}

/// Waits until the fake has seen one more provision action than before (or a short while).
async fn wait_for_attempt(heroku: &FakeHeroku) {
    let before = heroku.count("POST", "/actions/provision");
    eventually(Duration::from_secs(1), async || heroku.count("POST", "/actions/provision") > before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgresql_never_run_one_job_twice() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let database = TestDatabase::postgres().await;
    let first = Arc::new(start(&heroku, &database).await);
    let second = Arc::new(start(&heroku, &database).await);
    let uuids: Vec<String> = (0..20).map(|_| new_uuid()).collect();
    for (i, uuid) in uuids.iter().enumerate() {
        let server = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            server.provision(&body_with_grant(&heroku, uuid, "later")).await.status(),
            StatusCode::ACCEPTED
        );
    }
    for uuid in &uuids {
        assert!(heroku.wait_for_state(uuid, "provisioned", PATIENCE).await);
    }
    for uuid in &uuids {
        assert_eq!(heroku.count("POST", &format!("/addons/{uuid}/actions/provision")), 1, "{uuid}");
        assert_eq!(heroku.count("PATCH", &format!("/addons/{uuid}/config")), 1, "{uuid}");
    }
    // Per resource, across both instances (the registry may hold other tests' jobs too).
    let mut completed = first.addon.completed.lock().unwrap().clone();
    completed.extend(second.addon.completed.lock().unwrap().iter().cloned());
    for uuid in &uuids {
        assert_eq!(completed.iter().filter(|u| *u == uuid).count(), 1, "{uuid} completed once");
    }
    assert!(
        TestAddon::calls(&first.addon.completions) > 0 && TestAddon::calls(&second.addon.completions) > 0,
        "both ran jobs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asynchronous_plan_changes_and_deprovisions_use_the_same_machinery() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    server.provision(&body_with_grant(&heroku, &uuid, "basic")).await;

    let response = server.plan_change(&uuid, "later-plan").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    eventually(SHORT_WAIT, async || heroku.config(&uuid).contains_key("TEST_ADDON_TOKEN")).await;
    assert_eq!(heroku.config(&uuid)["TEST_ADDON_TOKEN"].as_deref(), Some("resized-from-basic"));

    let response = server.deprovision(&uuid).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(heroku.wait_for_state(&uuid, "deprovisioned", PATIENCE).await, "{:?}", heroku.calls());
    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::GONE);
    assert_eq!(TestAddon::calls(&server.addon.completions), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deprovision_while_the_provision_job_runs_is_final() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let server = start(&heroku, &TestDatabase::sqlite()).await;
    let uuid = new_uuid();
    // `later-slow`: the vendor's `#[complete_provision]` takes 800 ms.
    let response = server.provision(&body_with_grant(&heroku, &uuid, "later-slow")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    eventually(SHORT_WAIT, async || TestAddon::calls(&server.addon.completions) > 0).await;
    assert_eq!(TestAddon::calls(&server.addon.completions), 1, "the job is running");

    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    // The job goes on to set the config (Heroku would refuse it; the fake takes it), and must
    // stop there. Its runner lets go of it (its lease is cleared) once the attempt is over.
    let let_go = async || {
        sqlx::query("SELECT id FROM addon_jobs WHERE uuid = $1 AND lease_until IS NULL")
            .bind(&uuid)
            .fetch_optional(server.store.pool())
            .await
            .unwrap()
            .is_some()
    };
    assert!(eventually(Duration::from_secs(10), let_go).await, "the job's attempt ended");
    assert_eq!(heroku.count("PATCH", "/config"), 1, "the job ran to its end: {:?}", heroku.calls());
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.state, ResourceState::Deprovisioned, "the finished job did not bring it back");
    assert_eq!(heroku.count("POST", "/actions/provision"), 0, "Heroku was not told it is provisioned");
    let history = server.store.job_history(&uuid).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].1, "cancelled", "the job that was running stays cancelled");
    assert_eq!(server.provision(&body_with_grant(&heroku, &uuid, "later")).await.status(), StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_api_calls_vendors_use_work_with_the_resource_token() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let database = TestDatabase::sqlite();
    let store = database.store().await;
    let app = App::new(Arc::new(TestAddon::default()), settings(&heroku), store.clone()).unwrap();
    let uuid = new_uuid();
    let api = app.heroku(&uuid);
    let server = TestApp::serve(app).await;
    // A synchronous provision with a grant: the grant is exchanged right away by a job.
    assert_eq!(server.provision(&body_with_grant(&heroku, &uuid, "basic")).await.status(), StatusCode::OK);
    assert_eq!(finished_jobs(&store, &uuid).await[0].1, "done");
    assert_eq!(heroku.count("POST", "/oauth/token"), 1);
    let addon = api.addon().await.unwrap();
    assert_eq!(addon.id, uuid);
    let app_id = addon.app.unwrap().id.unwrap();
    assert_eq!(api.app(&app_id).await.unwrap().owner.unwrap().email.as_deref(), Some("owner@example.com"));
    let emails: Vec<_> =
        api.collaborators(&app_id).await.unwrap().into_iter().filter_map(|c| c.user.email).collect();
    assert_eq!(emails, ["owner@example.com", "dev@example.com"]);
    api.update_log_drain("d.1", "https://test-addon.example/drain/2").await.unwrap();
    let webhook = api
        .create_webhook(
            json!({"include": ["api:release"], "level": "notify", "url": "https://test-addon.example/hooks"}),
        )
        .await
        .unwrap();
    assert_eq!(webhook["url"], "https://test-addon.example/hooks");
    // Another resource's token is not this one's.
    let stranger = new_uuid();
    heroku.grant(&stranger);
    let error = App::new(Arc::new(TestAddon::default()), settings(&heroku), store)
        .unwrap()
        .heroku(&stranger)
        .addon()
        .await
        .unwrap_err();
    assert!(error.message.contains("no Platform API token"), "{error}");
}
