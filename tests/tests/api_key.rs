//! The app's own API, authenticated by a config var: `ApiKey<K>` finds the live resource whose
//! key was sent (Bearer, or Basic with the key as password) through a keyed digest of the value,
//! so the registry never holds the key in the clear; a wrong key, a replaced key and a
//! deprovisioned resource's key get a JSON 401. Both ways of keeping the digests are tested: a
//! row per var in the index table, and, when the add-on declares its `api_key`, that var's digest
//! in the resource's own row.

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
use sqlx::Row;

const URL: ConfigVar = ConfigVar::new("KEYED_URL");
const KEY: ConfigVar = ConfigVar::new("KEYED_API_KEY");

/// An add-on that gives each resource a random API key, and a new one on a plan change to
/// `rotate`; with `DECLARED`, it declares `KEYED_API_KEY` as its `api_key`.
#[derive(Debug)]
struct Keyed<const DECLARED: bool = false> {
    store: Store,
}

impl<const DECLARED: bool> Addon for Keyed<DECLARED> {
    const SPEC: AddonSpec = {
        let spec = AddonSpec::new("keyed", "Keyed", "https://keyed.example")
            .config_vars(&["KEYED_URL", "KEYED_API_KEY"])
            .plans(&["basic", "rotate"]);
        if DECLARED {
            spec.api_key("KEYED_API_KEY")
        } else {
            spec
        }
    };

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

impl<const DECLARED: bool> ApiKeyVar<Arc<Keyed<DECLARED>>> for Keyed<DECLARED> {
    const VAR: ConfigVar = KEY;

    fn store(state: &Arc<Keyed<DECLARED>>) -> &Store {
        &state.store
    }
}

/// `GET /api/whoami`: the uuid the key opened.
async fn whoami<const DECLARED: bool>(key: ApiKey<Keyed<DECLARED>>) -> String {
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
    start_as::<false>(database).await
}

/// A server of `Keyed<DECLARED>` on `database`.
async fn start_as<const DECLARED: bool>(database: TestDatabase) -> Server {
    let path = PathBuf::from(database.url().trim_start_matches("sqlite://"));
    let store = database.store().await;
    let addon = Arc::new(Keyed::<DECLARED> { store: store.clone() });
    let routes = Router::new().route("/api/whoami", get(whoami::<DECLARED>)).with_state(addon.clone());
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

    /// Changes the resource's plan to `rotate`; the new API key it was given.
    async fn rotate(&self, uuid: &str) -> String {
        let response = self.heroku.plan_change(uuid, "rotate").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.unwrap();
        body["config"]["KEYED_API_KEY"].as_str().expect("the new key").to_owned()
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

    let new_key = server.rotate(&first).await;
    server.refused(Some(bearer(&first_key))).await;
    assert_eq!(server.call_ok(bearer(&new_key)).await, first);

    assert_eq!(server.heroku.deprovision(&second).await.status(), StatusCode::NO_CONTENT);
    server.refused(Some(bearer(&second_key))).await;
}

#[tokio::test]
async fn a_key_replaced_by_a_plan_change_stops_working_and_the_new_one_works() {
    let server = start().await;
    let (uuid, old_key) = server.provision().await;
    let new_key = server.rotate(&uuid).await;
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

/// Where a resource's key is indexed: its row's key digest, and its rows in the index table.
async fn indexed(store: &Store, uuid: &str) -> (Option<String>, i64) {
    let row = sqlx::query(
        "SELECT key_digest, (SELECT COUNT(*) FROM addon_config_index i WHERE i.uuid = r.uuid) AS rows \
         FROM addon_resources r WHERE uuid = $1",
    )
    .bind(uuid)
    .fetch_one(store.pool())
    .await
    .unwrap();
    (row.get("key_digest"), row.get("rows"))
}

/// With `api_key` declared, a key is found through its resource's row alone, on both databases:
/// it opens its resource, a key a plan change replaced does not, and deprovisioning scrubs it.
#[tokio::test]
async fn a_declared_key_is_indexed_in_its_resource_s_row() {
    for database in [TestDatabase::sqlite(), TestDatabase::postgres().await] {
        let server = start_as::<true>(database).await;
        let store = &server._served.store;
        let (first, first_key) = server.provision().await;
        let (second, second_key) = server.provision().await;
        assert_eq!(server.call_ok(bearer(&first_key)).await, first);
        assert_eq!(server.call_ok(basic("anyone", &second_key)).await, second);
        server.refused(Some(bearer(&format!("{first_key}x")))).await;
        let (digest, rows) = indexed(store, &first).await;
        assert!(digest.is_some_and(|d| !d.contains(&first_key)), "the row holds the key's digest");
        assert_eq!(rows, 0, "no index table rows for a declared key");

        let new_key = server.rotate(&first).await;
        server.refused(Some(bearer(&first_key))).await;
        assert_eq!(server.call_ok(bearer(&new_key)).await, first);

        assert_eq!(server.heroku.deprovision(&second).await.status(), StatusCode::NO_CONTENT);
        server.refused(Some(bearer(&second_key))).await;
        assert_eq!(indexed(store, &second).await, (None, 0), "deprovisioning scrubs the digest");
    }
}

/// Declaring `api_key` on a registry that has resources indexed the other way keeps their keys
/// working, and taking the declaration back keeps the keys of resources provisioned under it
/// working: each start indexes what the other way left out.
#[tokio::test]
async fn declaring_the_key_and_taking_it_back_keeps_every_key_working() {
    let before = start_as::<false>(TestDatabase::sqlite()).await;
    let (old, old_key) = before.provision().await;
    assert_eq!(indexed(&before._served.store, &old).await.1, 2, "a row per var");

    let declared = start_as::<true>(before._database.clone()).await;
    assert_eq!(declared.call_ok(bearer(&old_key)).await, old, "an older resource's key still opens it");
    let (new, new_key) = declared.provision().await;
    assert_eq!(declared.call_ok(bearer(&new_key)).await, new);
    assert!(matches!(indexed(&declared._served.store, &new).await, (Some(_), 0)));

    // A resource with neither (recorded before any index) gets its key digest at a start.
    let store = &declared._served.store;
    sqlx::query("UPDATE addon_resources SET key_digest = NULL WHERE uuid = $1")
        .bind(&new)
        .execute(store.pool())
        .await
        .unwrap();
    declared.refused(Some(bearer(&new_key))).await;
    let restarted = start_as::<true>(before._database.clone()).await;
    let opened = eventually(Duration::from_secs(10), async || {
        restarted.call(Some(bearer(&new_key))).await.status() == StatusCode::OK
    })
    .await;
    assert!(opened, "the key is indexed again at the start");
    assert!(matches!(indexed(store, &new).await, (Some(_), 0)));

    // Without the declaration, every var of every resource is indexed in the table again.
    let after = start_as::<false>(before._database.clone()).await;
    let indexed_again = eventually(Duration::from_secs(10), async || indexed(store, &new).await.1 == 2).await;
    assert!(indexed_again, "the resource provisioned under the declaration gets its table rows");
    assert_eq!(after.call_ok(bearer(&new_key)).await, new);
    assert_eq!(after.call_ok(bearer(&old_key)).await, old);
    assert!(!holds(&after.path, &new_key) && !holds(&after.path, &old_key));
}
