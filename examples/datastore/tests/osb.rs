//! The datastore example as an Open Service Broker and a Heroku add-on at once: its own process,
//! one registry, a Cloud Foundry-like platform and Heroku's fake both driving it.

use std::process::Command;
use std::time::Duration;

use addon_runtime::testing::reqwest::{self, Method, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{client, eventually, new_uuid, FakeHeroku, Process, Simulator, TestDatabase};
use addon_runtime::Manifest;

const CLIENT_SECRET: &str = "datastore-oauth-client-secret";
const SERVICE_ID: &str = "3f7a1c52-8e0b-4d9a-b6c4-1a2b3c4d5e6f";
const TEST_PLAN_ID: &str = "9c2e5a1d-0f3b-4e6a-8d7c-5b4a3f2e1d0c";
const USER: &str = "cf-broker";
const PASSWORD: &str = "datastore-osb-password-0123456789";

fn manifest() -> Manifest {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/addon-manifest.json");
    Manifest::from_json(&std::fs::read_to_string(path).expect("cargo build wrote the manifest")).unwrap()
}

struct Platform {
    url: String,
    client: reqwest::Client,
}

impl Platform {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .basic_auth(USER, Some(PASSWORD))
            .header("X-Broker-API-Version", "2.17");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_marketplaces_from_one_process_on_sqlite() {
    both_marketplaces(TestDatabase::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_marketplaces_from_one_process_on_postgres() {
    both_marketplaces(TestDatabase::postgres().await).await
}

/// The example's binary on a free port, with Heroku's fake and the platform's credentials.
fn start(registry: &TestDatabase, heroku: &FakeHeroku) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acme-datastore"));
    command
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATABASE_URL", registry.url())
        .env("HEROKU_API_URL", heroku.url())
        .env("HEROKU_OAUTH_URL", heroku.url())
        .env("HEROKU_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
        .env("ADDON_OSB_USERNAME", USER)
        .env("ADDON_OSB_PASSWORD", PASSWORD)
        .env("ADDON_JOB_POLL_MS", "50");
    let (example, _) = Process::start(&mut command, "listening on", Duration::from_secs(20));
    (example, format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkers_osb_mode_passes_the_example() {
    let registry = TestDatabase::sqlite();
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let (_example, origin) = start(&registry, &heroku);
    let options = addon_check::osb::OsbOptions {
        url: origin,
        username: USER.to_owned(),
        password: PASSWORD.to_owned(),
        patience: Duration::from_secs(30),
    };
    let report = addon_check::osb::run(options, |_| {}).await;
    let lines: Vec<String> = report.outcomes.iter().map(|o| o.line()).collect();
    assert!(report.failed().is_empty(), "{}", lines.join("\n"));
    assert!(report.count(addon_check::Status::Pass) >= 20, "{}", lines.join("\n"));
}

async fn both_marketplaces(registry: TestDatabase) {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let (_example, origin) = start(&registry, &heroku);
    let platform = Platform { url: origin.clone(), client: client() };

    // The catalog is the declaration's: the given plan id, and the others derived.
    let (status, catalog) = platform.call(Method::GET, "/v2/catalog", None).await;
    assert_eq!(status, StatusCode::OK);
    let service = &catalog["services"][0];
    assert_eq!(service["id"], SERVICE_ID);
    let plans: Vec<&str> =
        service["plans"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(plans, ["test", "small", "large"]);
    assert_eq!(service["plans"][0]["id"], TEST_PLAN_ID);

    // OSB: provisioned in the background, polled to succeeded, then bound.
    let id = new_uuid();
    let body =
        json!({"service_id": SERVICE_ID, "plan_id": TEST_PLAN_ID, "context": {"platform": "cloudfoundry"}});
    let path = format!("/v2/service_instances/{id}");
    let (status, refused) = platform.call(Method::PUT, &path, Some(body.clone())).await;
    assert_eq!((status, &refused["error"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("AsyncRequired")));
    let (status, accepted) =
        platform.call(Method::PUT, &format!("{path}?accepts_incomplete=true"), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let poll =
        format!("{path}/last_operation?service_id={SERVICE_ID}&plan_id={TEST_PLAN_ID}&operation=provision");
    let succeeded = eventually(Duration::from_secs(20), async || {
        platform.call(Method::GET, &poll, None).await.1["state"] == "succeeded"
    })
    .await;
    assert!(succeeded, "{}", platform.call(Method::GET, &poll, None).await.1);
    let binding = format!("{path}/service_bindings/{}", new_uuid());
    let bind =
        json!({"service_id": SERVICE_ID, "plan_id": TEST_PLAN_ID, "bind_resource": {"app_guid": "app"}});
    let (status, bound) = platform.call(Method::PUT, &binding, Some(bind)).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let url =
        bound["credentials"]["ACME_DATASTORE_URL"].as_str().expect("the URL is the credential").to_owned();

    // The credentials open the tenant's data, as the Heroku config does.
    let parsed = reqwest::Url::parse(&url).unwrap();
    let (user, secret) = (parsed.username().to_owned(), parsed.password().unwrap().to_owned());
    let key = format!("{origin}/kv/{id}/greeting");
    let put = platform
        .client
        .put(&key)
        .basic_auth(&user, Some(&secret))
        .body("hello, foundry")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let got = platform.client.get(&key).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "hello, foundry");

    // Heroku, at the same time, on the same process and registry.
    let addon = Simulator::from_manifest(&manifest()).unwrap().at(&origin);
    let uuid = new_uuid();
    let heroku_body = json!({
        "uuid": uuid, "plan": "small", "region": "amazon-web-services::us-east-1",
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"), "name": "acme-datastore-tidy-1",
        "oauth_grant": {"code": heroku.grant(&uuid), "expires_at": "2026-11-27T18:01:31-0800", "type": "authorization_code"},
    });
    assert_eq!(addon.provision(&heroku_body).await.status(), StatusCode::ACCEPTED);
    assert!(
        heroku.wait_for_state(&uuid, "provisioned", Duration::from_secs(20)).await,
        "{:?}",
        heroku.calls()
    );
    // Heroku's Platform API heard only of Heroku's resource.
    assert!(!format!("{:?}", heroku.calls()).contains(&id), "{:?}", heroku.calls());

    // Deleting the instance removes the tenant and its data.
    let unbind = format!("{binding}?service_id={SERVICE_ID}&plan_id={TEST_PLAN_ID}");
    assert_eq!(platform.call(Method::DELETE, &unbind, None).await.0, StatusCode::OK);
    let delete = format!("{path}?service_id={SERVICE_ID}&plan_id={TEST_PLAN_ID}&accepts_incomplete=true");
    assert_eq!(platform.call(Method::DELETE, &delete, None).await, (StatusCode::OK, json!({})));
    assert_eq!(platform.call(Method::DELETE, &delete, None).await.0, StatusCode::GONE);
    let gone = platform.client.get(&key).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}
