//! The app's own API, authenticated by a config var: `ApiKey<K>` finds the live resource whose
//! key was sent (Bearer, or Basic with the key as password) through a keyed digest of the value,
//! so the registry never holds the key in the clear; a wrong key, a replaced key and a
//! deprovisioned resource's key get a JSON 401.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use addon_runtime::{
    random_secret, Addon, AddonError, AddonSpec, ApiKey, ApiKeyVar, App, Config, ConfigVar,
    DeprovisionRequest, Deprovisioned, PlanChangeRequest, PlanChanged, ProvisionRequest, Provisioned,
    Settings, Store,
};
use addon_tests::*;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use reqwest::StatusCode;

const URL: ConfigVar = ConfigVar::new("KEYED_URL");
const KEY: ConfigVar = ConfigVar::new("KEYED_API_KEY");

/// An add-on that gives each resource a random API key, and a new one on a plan change to
/// `rotate`.
#[derive(Debug)]
struct Keyed {
    store: Store,
}

impl Addon for Keyed {
    const SPEC: AddonSpec = AddonSpec::new("keyed", "Keyed", "https://keyed.example")
        .config_vars(&["KEYED_URL", "KEYED_API_KEY"])
        .plans(&["basic", "rotate"]);

    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let config = Config::new()
            .set(URL, format!("https://keyed.example/{}", request.uuid))
            .set(KEY, random_secret());
        Ok(Provisioned::new(config))
    }

    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(match request.plan.as_str() {
            "rotate" => PlanChanged::new().with_config(Config::new().set(KEY, random_secret())),
            _ => PlanChanged::new(),
        })
    }

    async fn deprovision(&self, _: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
        Ok(Deprovisioned::now())
    }
}

impl ApiKeyVar<Arc<Keyed>> for Keyed {
    const VAR: ConfigVar = KEY;

    fn store(state: &Arc<Keyed>) -> &Store {
        &state.store
    }
}

/// `GET /api/whoami`: the uuid the key opened.
async fn whoami(key: ApiKey<Keyed>) -> String {
    key.resource().uuid.clone()
}

struct Server {
    heroku: Simulator,
    url: String,
    path: PathBuf,
    /// Serves until the test ends.
    _served: TestApp,
    /// Removes the registry's file when the test ends.
    _database: TestDatabase,
}

async fn start() -> Server {
    start_on(TestDatabase::sqlite()).await
}

/// A server on `database` (a second instance, or a restart, when another server used it).
async fn start_on(database: TestDatabase) -> Server {
    let path = PathBuf::from(database.url().trim_start_matches("sqlite://"));
    let store = database.store().await;
    let addon = Arc::new(Keyed { store: store.clone() });
    let routes = Router::new().route("/api/whoami", get(whoami)).with_state(addon.clone());
    let app = App::new(addon, Settings::development(PASSWORD, SALT), store).unwrap().with_routes(routes);
    let served = TestApp::serve(app).await;
    let url = served.url.clone();
    let heroku = Simulator::new(url.clone(), "keyed", PASSWORD, SALT);
    Server { heroku, url, path, _served: served, _database: database }
}

impl Server {
    /// Provisions a resource; its uuid and API key.
    async fn provision(&self) -> (String, String) {
        let uuid = new_uuid();
        let response = self.heroku.provision(&v3_body(&uuid, "basic")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.unwrap();
        (uuid, body["config"]["KEYED_API_KEY"].as_str().expect("a key in the config").to_owned())
    }

    async fn call(&self, authorization: Option<String>) -> reqwest::Response {
        let mut request = client().get(format!("{}/api/whoami", self.url));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.unwrap()
    }

    async fn call_ok(&self, authorization: String) -> String {
        let response = self.call(Some(authorization)).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// The refusal's message, after checking it is a JSON 401 with a Bearer challenge.
    async fn refused(&self, authorization: Option<String>) -> String {
        let response = self.call(authorization).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        json_message(response).await
    }
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn basic(user: &str, key: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}

/// Every byte SQLite keeps for the database: the file and its write-ahead log.
fn sqlite_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(more) = std::fs::read(format!("{}-wal", path.display())) {
        bytes.extend(more);
    }
    bytes
}

fn holds(path: &Path, needle: &str) -> bool {
    sqlite_bytes(path).windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn a_key_opens_its_own_live_resource_by_bearer_or_basic() {
    let server = start().await;
    let (first, first_key) = server.provision().await;
    let (second, second_key) = server.provision().await;

    assert_eq!(server.call_ok(bearer(&first_key)).await, first);
    assert_eq!(server.call_ok(basic("anyone", &first_key)).await, first);
    assert_eq!(server.call_ok(basic("", &second_key)).await, second);
    assert_eq!(server.call_ok(format!("bearer {second_key}")).await, second);

    let missing = server.refused(None).await;
    assert!(missing.contains("`KEYED_API_KEY`") && missing.contains("Bearer"), "{missing}");
    let wrong = server.refused(Some(bearer(&format!("{first_key}x")))).await;
    assert!(wrong.contains("does not open any live add-on resource"), "{wrong}");
    server.refused(Some(basic("user", "not-a-key"))).await;
    server.refused(Some(format!("Token {first_key}"))).await;
    server.refused(Some("Bearer ".to_owned())).await;

    // Neither key, nor the digest input, is in the database in the clear, live or not.
    for key in [&first_key, &second_key] {
        assert!(!holds(&server.path, key), "the SQLite file holds an API key in the clear");
    }

    assert_eq!(server.heroku.deprovision(&first).await.status(), StatusCode::NO_CONTENT);
    server.refused(Some(bearer(&first_key))).await;
    server.refused(Some(basic("anyone", &first_key))).await;
    assert_eq!(server.call_ok(bearer(&second_key)).await, second, "the other resource still works");
    for key in [&first_key, &second_key] {
        assert!(!holds(&server.path, key), "the SQLite file holds an API key in the clear");
    }
}

/// On PostgreSQL a provision's answer and its index rows are written by one statement: the keys
/// of new resources open them there too, and only them, until a plan change replaces a key.
#[tokio::test]
async fn keys_open_their_resources_on_postgresql() {
    let server = start_on(TestDatabase::postgres().await).await;
    let (first, first_key) = server.provision().await;
    let (second, second_key) = server.provision().await;
    assert_eq!(server.call_ok(bearer(&first_key)).await, first);
    assert_eq!(server.call_ok(basic("anyone", &second_key)).await, second);
    server.refused(Some(bearer(&format!("{first_key}x")))).await;

    let response = server.heroku.plan_change(&first, "rotate").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let new_key = body["config"]["KEYED_API_KEY"].as_str().expect("the new key").to_owned();
    server.refused(Some(bearer(&first_key))).await;
    assert_eq!(server.call_ok(bearer(&new_key)).await, first);

    assert_eq!(server.heroku.deprovision(&second).await.status(), StatusCode::NO_CONTENT);
    server.refused(Some(bearer(&second_key))).await;
}

#[tokio::test]
async fn a_key_replaced_by_a_plan_change_stops_working_and_the_new_one_works() {
    let server = start().await;
    let (uuid, old_key) = server.provision().await;
    let response = server.heroku.plan_change(&uuid, "rotate").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let new_key = body["config"]["KEYED_API_KEY"].as_str().expect("the new key").to_owned();
    assert_ne!(new_key, old_key);

    server.refused(Some(bearer(&old_key))).await;
    assert_eq!(server.call_ok(bearer(&new_key)).await, uuid);
    assert!(!holds(&server.path, &new_key) && !holds(&server.path, &old_key));
}

#[tokio::test]
async fn resources_recorded_before_the_index_are_indexed_when_the_app_starts() {
    let server = start().await;
    let (uuid, key) = server.provision().await;
    // As a registry written before the index existed: the resource, no index rows.
    sqlx::query("DELETE FROM addon_config_index").execute(server._served.store.pool()).await.unwrap();
    server.refused(Some(bearer(&key))).await;

    let restarted = start_on(server._database.clone()).await;
    let opened = eventually(Duration::from_secs(10), async || {
        restarted.call(Some(bearer(&key))).await.status() == StatusCode::OK
    })
    .await;
    assert!(opened, "the older resource's key opens it after a start");
    assert_eq!(restarted.call_ok(bearer(&key)).await, uuid);
    assert!(!holds(&restarted.path, &key), "indexed by digest, not by value");
}
