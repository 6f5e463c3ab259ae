//! Pingly served on a loopback port with a throwaway registry, spoken to as Heroku and as the
//! app: provisioning, the API and its key, the plan limits on create and on downgrade, the
//! prober, the dashboard after SSO.

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{
    cookie_pair, eventually, new_uuid, now, set_cookie, v3_body, TestApp, TestDatabase,
};
use addon_runtime::{App, RateLimiter, Session, TokenKind};
use pingly::{Pingly, Probing};

/// Probes every 50 ms, giving a target 2 s: the prober test waits for a round, not a minute.
const FAST: Probing = Probing { interval: Duration::from_millis(50), timeout: Duration::from_secs(2) };

/// Pingly as `main` serves it (tables migrated, prober running, its routes beside Heroku's).
async fn start_on(database: &TestDatabase, api_limit: Option<RateLimiter>) -> TestApp {
    TestApp::build_on(database, async |store| {
        let mut pingly = Pingly::open(store.clone(), "http://127.0.0.1:5200").await?.with_probing(FAST);
        if let Some(limit) = api_limit {
            pingly = pingly.with_api_limit(limit);
        }
        let pingly = Arc::new(pingly);
        pingly::spawn_prober(&pingly);
        App::new(pingly.clone(), TestApp::settings(), store)
            .map(|app| app.with_routes(pingly::routes(pingly)))
    })
    .await
}

async fn start() -> TestApp {
    start_on(&TestDatabase::sqlite(), None).await
}

/// Pingly's view of the app's registry, to read its tables as the dashboard does.
async fn pingly_of(app: &TestApp) -> Pingly {
    Pingly::open(app.store.clone(), "http://127.0.0.1:5200").await.unwrap()
}

/// Provisions a resource on `plan`: its uuid and API key.
async fn provision(app: &TestApp, plan: &str) -> (String, String) {
    let uuid = new_uuid();
    let response = app.provision(&v3_body(&uuid, plan)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (uuid, body["config"]["PINGLY_API_KEY"].as_str().expect("a key").to_owned())
}

async fn create(app: &TestApp, key: &str, url: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/monitors", app.url))
        .bearer_auth(key)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap()
}

async fn list(app: &TestApp, key: &str) -> reqwest::Response {
    app.client.get(format!("{}/api/monitors", app.url)).bearer_auth(key).send().await.unwrap()
}

async fn remove(app: &TestApp, key: &str, id: i64) -> reqwest::Response {
    app.client.delete(format!("{}/api/monitors/{id}", app.url)).bearer_auth(key).send().await.unwrap()
}

/// The status and the JSON `message` of a refusal.
async fn refusal(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON refusal");
    (status, body["message"].as_str().expect("a message").to_owned())
}

async fn created_id(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_key_from_provisioning_opens_the_api_of_its_own_resource_until_deprovision() {
    let app = start().await;
    let uuid = new_uuid();
    let body: Value = app.provision(&v3_body(&uuid, "hobby")).await.json().await.unwrap();
    let key = body["config"]["PINGLY_API_KEY"].as_str().unwrap().to_owned();
    assert!(key.len() >= 32, "a random key: {key}");
    assert_eq!(body["config"]["PINGLY_URL"], "http://127.0.0.1:5200/api");
    let (other, other_key) = provision(&app, "hobby").await;
    assert_ne!(key, other_key, "each resource has its own key");

    let id = created_id(create(&app, &key, "https://example.com/health").await).await;
    created_id(create(&app, &other_key, "https://example.org/").await).await;
    let listing: Value = list(&app, &key).await.json().await.unwrap();
    assert_eq!((listing["plan"].as_str(), listing["limit"].as_u64()), (Some("hobby"), Some(3)));
    let urls: Vec<&str> =
        listing["monitors"].as_array().unwrap().iter().map(|m| m["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["https://example.com/health"], "only its own monitors");

    let (status, message) = refusal(list(&app, "not-the-key").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message.contains("PINGLY_API_KEY"), "{message}");
    let (status, _) =
        refusal(app.client.get(format!("{}/api/monitors", app.url)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no key at all");
    assert_eq!(
        refusal(remove(&app, &other_key, id).await).await.0,
        StatusCode::NOT_FOUND,
        "not another's monitor"
    );
    assert_eq!(remove(&app, &key, id).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(refusal(remove(&app, &key, id).await).await.0, StatusCode::NOT_FOUND);

    created_id(create(&app, &key, "https://example.com/again").await).await;
    assert_eq!(app.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(refusal(list(&app, &key).await).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refusal(create(&app, &key, "https://example.com/").await).await.0, StatusCode::UNAUTHORIZED);
    let pingly = pingly_of(&app).await;
    assert!(pingly.monitors(&uuid).await.unwrap().is_empty(), "deprovision deleted its monitors");
    assert_eq!(pingly.monitors(&other).await.unwrap().len(), 1, "and no one else's");
}

#[tokio::test]
async fn bad_input_is_refused_in_json_and_calls_past_the_rate_limit_get_a_429() {
    let app = start_on(&TestDatabase::sqlite(), Some(RateLimiter::new(8, Duration::from_secs(3600)))).await;
    let (_, key) = provision(&app, "pro").await;
    for (url, expected) in
        [("ftp://example.com/", "http and https"), ("", "Give the URL"), ("no scheme", "absolute")]
    {
        let (status, message) = refusal(create(&app, &key, url).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains(expected), "{url:?}: {message}");
    }
    let long = format!("https://example.com/{}", "a".repeat(pingly::MAX_URL_CHARS));
    assert!(refusal(create(&app, &key, &long).await).await.1.contains("at most 2048"));
    let not_json = app
        .client
        .post(format!("{}/api/monitors", app.url))
        .bearer_auth(&key)
        .body("{")
        .send()
        .await
        .unwrap();
    assert!(not_json.status().is_client_error());
    let wrong_field = app
        .client
        .post(format!("{}/api/monitors", app.url))
        .bearer_auth(&key)
        .json(&json!({"href": "https://x.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(wrong_field).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // 8 calls an hour per resource: the calls above spent most; the next few run out.
    let mut limited = None;
    for _ in 0..8 {
        let response = list(&app, &key).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let limited = limited.expect("a 429 once the allowance is spent");
    assert!(limited.headers().contains_key("retry-after"));
    assert!(!refusal(limited).await.1.is_empty());
    let (_, other_key) = provision(&app, "hobby").await;
    assert_eq!(
        list(&app, &other_key).await.status(),
        StatusCode::OK,
        "another resource's allowance is its own"
    );
}

#[tokio::test]
async fn the_hobby_plan_refuses_a_fourth_monitor_naming_the_plan_and_its_limit() {
    let app = start().await;
    let (_, key) = provision(&app, "hobby").await;
    for n in 1..=3 {
        created_id(create(&app, &key, &format!("https://example.com/{n}")).await).await;
    }
    let (status, message) = refusal(create(&app, &key, "https://example.com/4").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("hobby plan allows 3 monitors"), "{message}");
    let listing: Value = list(&app, &key).await.json().await.unwrap();
    assert_eq!(listing["monitors"].as_array().unwrap().len(), 3);
}

/// A downgrade to a plan the resource has outgrown, then after deleting, on `database`.
async fn downgrade_refused_while_over_the_limit_then_accepted(database: &TestDatabase) {
    let app = start_on(database, None).await;
    let (uuid, key) = provision(&app, "pro").await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(created_id(create(&app, &key, &format!("https://example.com/{n}")).await).await);
    }
    let (status, message) = refusal(app.plan_change(&uuid, "hobby").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("remove 2 monitors first"), "{message}");
    assert_eq!(list(&app, &key).await.json::<Value>().await.unwrap()["plan"], "pro", "still on pro");

    for id in &ids[..2] {
        assert_eq!(remove(&app, &key, *id).await.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(app.plan_change(&uuid, "hobby").await.status(), StatusCode::OK);
    let listing: Value = list(&app, &key).await.json().await.unwrap();
    assert_eq!((listing["plan"].as_str(), listing["limit"].as_u64()), (Some("hobby"), Some(3)));
    assert_eq!(
        refusal(create(&app, &key, "https://example.com/6").await).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let judged: Vec<bool> =
        pingly_of(&app).await.plan_changes(&uuid).await.unwrap().iter().map(|c| c.accepted).collect();
    assert_eq!(judged, [false, true]);
}

#[tokio::test]
async fn a_downgrade_is_refused_while_over_the_limit_and_accepted_after_deleting() {
    downgrade_refused_while_over_the_limit_then_accepted(&TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgrade_is_refused_while_over_the_limit_and_accepted_after_deleting_on_postgres() {
    downgrade_refused_while_over_the_limit_then_accepted(&TestDatabase::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_and_plan_changes_never_overlap_and_hobby_never_holds_more_than_three() {
    // A limit high enough that only the plan refuses the creates.
    let limit = RateLimiter::new(1_000, Duration::from_secs(1));
    let app = Arc::new(start_on(&TestDatabase::sqlite(), Some(limit)).await);
    let (uuid, key) = provision(&app, "pro").await;
    // Creates keep arriving from several tasks while Heroku moves the resource between plans.
    let creators: Vec<_> = (0..4)
        .map(|task| {
            let (app, key) = (app.clone(), key.clone());
            tokio::spawn(async move {
                for n in 0..6 {
                    let status =
                        create(&app, &key, &format!("https://example.com/{task}/{n}")).await.status();
                    assert!(
                        status == StatusCode::CREATED || status == StatusCode::UNPROCESSABLE_ENTITY,
                        "{status}"
                    );
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for plan in ["hobby", "pro", "hobby", "pro", "hobby"] {
        answers.push(app.plan_change(&uuid, plan).await.status());
    }
    for creator in creators {
        creator.await.unwrap();
    }

    let pingly = pingly_of(&app).await;
    let changes = pingly.plan_changes(&uuid).await.unwrap();
    let monitors = pingly.monitors(&uuid).await.unwrap();
    // A change to the plan the resource is already on never reaches Pingly; every other does.
    let refused = answers.iter().filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY).count();
    assert!(changes.len() >= 2, "{answers:?} {changes:?}");
    assert_eq!(changes.iter().filter(|c| !c.accepted).count(), refused, "{answers:?} {changes:?}");
    for change in &changes {
        for monitor in &monitors {
            assert!(
                !(change.started <= monitor.created && monitor.created <= change.finished),
                "monitor {} was created at {} during the plan change {change:?}",
                monitor.id,
                monitor.created
            );
        }
    }
    // Whatever the interleaving, an accepted move to hobby left at most 3 monitors behind it.
    let plan = list(&app, &key).await.json::<Value>().await.unwrap()["plan"].as_str().unwrap().to_owned();
    if plan == "hobby" {
        assert!(monitors.len() <= 3, "{} monitors on hobby", monitors.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prober_records_each_targets_status_and_latency() {
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", target.local_addr().unwrap());
    let routes = axum::Router::new()
        .route("/up", axum::routing::get(|| async { "up" }))
        .route("/down", axum::routing::get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }));
    let target_server = tokio::spawn(async move { axum::serve(target, routes).await });
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();

    let app = start().await;
    let (uuid, key) = provision(&app, "hobby").await;
    for url in [format!("{origin}/up"), format!("{origin}/down"), format!("http://{closed}/")] {
        created_id(create(&app, &key, &url).await).await;
    }
    let pingly = pingly_of(&app).await;
    let checked = eventually(Duration::from_secs(10), async || {
        pingly.monitors(&uuid).await.unwrap().iter().all(|m| m.last_check.is_some())
    })
    .await;
    let monitors = pingly.monitors(&uuid).await.unwrap();
    assert!(checked, "every monitor was checked: {monitors:?}");
    let statuses: Vec<u16> = monitors.iter().map(|m| m.last_check.as_ref().unwrap().status).collect();
    assert_eq!(statuses, [200, 503, 0]);
    let up = monitors[0].last_check.as_ref().unwrap();
    assert!(up.up() && up.latency_ms < 2_000, "{up:?}");
    assert!(!monitors[1].last_check.as_ref().unwrap().up());

    // The API shows the same checks to the app.
    let listing: Value = list(&app, &key).await.json().await.unwrap();
    assert!(
        listing["monitors"][1]["last_check"]["status"].as_u64().is_some_and(|s| s == 503 || s == 0),
        "{listing}"
    );
    target_server.abort();
}

#[tokio::test]
async fn the_dashboard_after_sso_lists_the_monitors_escaped_with_a_sign_out_form() {
    let app = start().await;
    let (uuid, key) = provision(&app, "hobby").await;
    created_id(create(&app, &key, "https://example.com/<b>status</b>").await).await;

    let anonymous = app.client.get(format!("{}/dashboard", app.url)).send().await.unwrap();
    assert!(
        anonymous.status().is_client_error() || anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );

    let signed_in = app.sso_post(&app.sso_form(TokenKind::Resource, &uuid, now())).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/dashboard");
    let cookie = cookie_pair(set_cookie(&signed_in, Session::COOKIE).expect("a session cookie"));
    let page =
        app.client.get(format!("{}/dashboard", app.url)).header("Cookie", cookie).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("https://example.com/%3Cb%3Estatus%3C/b%3E"), "the URL, as stored: {html}");
    assert!(
        html.contains("<strong id=\"plan\">hobby</strong>") && html.contains("1 of 3 monitors"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"{}\"", Session::LOGOUT_PATH)), "a sign-out form");
}

#[tokio::test]
async fn an_unknown_plan_is_refused_before_pingly_is_called() {
    let app = start().await;
    let (status, message) = refusal(app.provision(&v3_body(&new_uuid(), "platinum")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("`hobby`, `pro`"), "{message}");

    let (uuid, _) = provision(&app, "hobby").await;
    let (status, _) = refusal(app.plan_change(&uuid, "platinum").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(pingly_of(&app).await.plan_changes(&uuid).await.unwrap().is_empty(), "Pingly never judged it");
}
