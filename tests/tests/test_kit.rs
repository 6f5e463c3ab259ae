//! The runtime's test kit: one call serves an add-on on a loopback port with a throwaway
//! registry and Heroku's side pointed at it; dropping it removes everything it created.

use std::path::PathBuf;

use addon_runtime::testing::{new_uuid, now, reqwest, set_cookie, v3_body, TestApp, TestDatabase, TokenKind};
use addon_runtime::Session;
use addon_tests::TestAddon;

/// The directory a SQLite test registry lives in.
fn directory_of(database: &TestDatabase) -> PathBuf {
    let file = PathBuf::from(database.url().strip_prefix("sqlite://").expect("a SQLite URL"));
    file.parent().expect("a directory of its own").to_path_buf()
}

#[tokio::test]
async fn one_call_serves_the_addon_and_dropping_it_removes_the_sqlite_files() {
    let database = TestDatabase::sqlite();
    let dir = directory_of(&database);
    let app = TestApp::build_on(&database, async |store| {
        addon_runtime::App::new(std::sync::Arc::new(TestAddon::default()), TestApp::settings(), store)
    })
    .await;
    drop(database);
    let uuid = new_uuid();
    let response: reqwest::Response = app.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(app.store.resource(&uuid).await.unwrap().is_some(), "the kit's store is the app's registry");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(files.len() >= 2, "the registry and its write-ahead log: {files:?}");

    // The session cookie carries the documented name.
    let form = app.sso_form(TokenKind::Resource, &uuid, now());
    let signed_in = app.sso_post(&form).await;
    assert!(set_cookie(&signed_in, Session::COOKIE).is_some(), "{:?}", signed_in.headers());

    drop(app);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[tokio::test]
async fn start_needs_nothing_but_the_addon() {
    let app = TestApp::start(TestAddon::default()).await;
    assert!(app.url.starts_with("http://127.0.0.1:"), "{}", app.url);
    let answer: serde_json::Value = app.provision(&v3_body(&new_uuid(), "basic")).await.json().await.unwrap();
    assert!(answer["config"]["TEST_ADDON_URL"].is_string(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_registry_is_a_database_of_its_own_dropped_after() {
    let database = TestDatabase::postgres().await;
    let name = database.url().rsplit('/').next().unwrap().to_owned();
    let server = std::env::var("TEST_DATABASE_URL").unwrap();
    let count = async |name: &str| -> i64 {
        let admin = addon_runtime::Store::open(&server).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(admin.pool())
            .await
            .unwrap()
    };
    let app = TestApp::build_on(&database, async |store| {
        addon_runtime::App::new(std::sync::Arc::new(TestAddon::default()), TestApp::settings(), store)
    })
    .await;
    assert_eq!(app.provision(&v3_body(&new_uuid(), "basic")).await.status(), reqwest::StatusCode::OK);
    assert_eq!(count(&name).await, 1, "the app's registry is the fresh database {name}");
    drop(database);
    assert_eq!(count(&name).await, 1, "the app still holds it");
    drop(app);
    assert_eq!(count(&name).await, 0, "{name} is dropped with the app");
}
