//! Pingly through DigitalOcean and Heroku at once, from its one impl: provisioning on each, the
//! API key of each, the dashboard after each marketplace's SSO, DigitalOcean's suspension and
//! reactivation, plan limits and deprovisioning. On SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (`scripts/with-postgres.sh`).

use std::sync::Arc;

use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{
    cookie_pair, digitalocean_body, new_uuid, now, set_cookie, v3_body, TestApp, TestDatabase,
};
use addon_runtime::{App, Marketplace, TokenKind};
use pingly::Pingly;

async fn start(database: &TestDatabase) -> TestApp {
    TestApp::build_on(database, async |store| {
        let pingly = Arc::new(Pingly::open(store.clone(), "http://127.0.0.1:5200").await?);
        App::new(pingly.clone(), TestApp::settings(), store)
            .map(|app| app.with_routes(pingly::routes(pingly)))
    })
    .await
}

async fn key_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["config"]["PINGLY_API_KEY"].as_str().expect("a key").to_owned()
}

async fn create(app: &TestApp, key: &str, url: &str) -> reqwest::Response {
    let request = app.client.post(format!("{}/api/monitors", app.url)).bearer_auth(key);
    request.json(&json!({ "url": url })).send().await.unwrap()
}

async fn monitors(app: &TestApp, key: &str) -> reqwest::Response {
    app.client.get(format!("{}/api/monitors", app.url)).bearer_auth(key).send().await.unwrap()
}

async fn dashboard(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client.get(format!("{}/dashboard", app.url)).header("Cookie", cookie).send().await.unwrap()
}

/// The session cookie of a sign-in that redirected to the dashboard.
fn session_of(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/dashboard");
    cookie_pair(set_cookie(response, "addon_session").expect("a session cookie"))
}

async fn both_marketplaces_from_one_impl(database: &TestDatabase) {
    let app = start(database).await;
    let digitalocean = app.digitalocean();
    let (heroku_uuid, do_uuid) = (new_uuid(), new_uuid());
    let heroku_key = key_of(app.provision(&v3_body(&heroku_uuid, "hobby")).await).await;
    let do_key = key_of(digitalocean.provision(&digitalocean_body(&do_uuid, "hobby")).await).await;
    let record = app.store.resource(&do_uuid).await.unwrap().unwrap();
    assert_eq!(record.marketplace, Marketplace::DigitalOcean);

    assert_eq!(
        create(&app, &heroku_key, "https://heroku-app.example/health").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(create(&app, &do_key, "https://do-app.example/health").await.status(), StatusCode::CREATED);
    let listed: Value = monitors(&app, &do_key).await.json().await.unwrap();
    assert_eq!(
        listed["monitors"].as_array().map(Vec::len),
        Some(1),
        "each key sees its own resource's monitors: {listed}"
    );

    let heroku_session =
        session_of(&app.sso_post(&app.sso_form(TokenKind::Resource, &heroku_uuid, now())).await);
    let do_session = session_of(&digitalocean.sso_post(&digitalocean.sso_form(&do_uuid, now())).await);
    let page = dashboard(&app, &do_session).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("do-app.example"));

    // DigitalOcean suspends its resource: its key and dashboard are refused, Heroku's are not.
    let suspended = digitalocean.notify_resources("resources.suspended", &[&do_uuid]).await;
    assert_eq!(suspended.status(), StatusCode::OK);
    let refused = monitors(&app, &do_key).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let message: Value = refused.json().await.unwrap();
    assert!(message["message"].as_str().unwrap().contains("suspended"), "{message}");
    assert!(!dashboard(&app, &do_session).await.status().is_success());
    let sso = digitalocean.sso_post(&digitalocean.sso_form(&do_uuid, now())).await;
    assert_eq!(sso.status(), StatusCode::FORBIDDEN);
    assert_eq!(monitors(&app, &heroku_key).await.status(), StatusCode::OK);
    assert_eq!(dashboard(&app, &heroku_session).await.status(), StatusCode::OK);

    // Reactivated, with its monitor kept.
    let reactivated = digitalocean.notify_resources("resources.reactivated", &[&do_uuid]).await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    let listed: Value = monitors(&app, &do_key).await.json().await.unwrap();
    assert_eq!(listed["monitors"][0]["url"], "https://do-app.example/health");
    assert_eq!(dashboard(&app, &do_session).await.status(), StatusCode::OK);

    // The same plan limits, through DigitalOcean's plan change.
    for n in 2..=3 {
        let url = format!("https://do-app.example/{n}");
        assert_eq!(create(&app, &do_key, &url).await.status(), StatusCode::CREATED);
    }
    assert_eq!(digitalocean.plan_change(&do_uuid, "pro").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(create(&app, &do_key, "https://do-app.example/4").await.status(), StatusCode::CREATED);
    let downgrade = digitalocean.plan_change(&do_uuid, "hobby").await;
    assert_eq!(downgrade.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal: Value = downgrade.json().await.unwrap();
    assert!(refusal["message"].as_str().unwrap().contains("remove 1 monitor"), "{refusal}");

    assert_eq!(digitalocean.deprovision(&do_uuid).await.status(), StatusCode::OK);
    assert_eq!(monitors(&app, &do_key).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.deprovision(&heroku_uuid).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heroku_and_digitalocean_from_one_impl() {
    both_marketplaces_from_one_impl(&TestDatabase::new().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heroku_and_digitalocean_from_one_impl_on_sqlite() {
    both_marketplaces_from_one_impl(&TestDatabase::sqlite()).await;
}
