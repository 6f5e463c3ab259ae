//! The Open Service Broker adapter over real HTTP, on SQLite and on PostgreSQL: every OSB route
//! and status the v2.17 API names, served beside Heroku's from one process and one registry.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use addon_runtime::prelude::*;
use addon_runtime::{
    AddonSpec, App, ConfigVar, Deprovisioned, ManualClock, Marketplace, OsbService, ResourceState,
    SsoRedirect,
};
use addon_tests::{eventually, new_uuid, v3_body, TestApp, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SERVICE_ID: &str = "6c1b9a52-3f0e-4d6b-8a7c-2e9f1d4b5a60";
/// The one plan whose id is declared; the others' are derived.
const SMALL_ID: &str = "0b5e7c3a-9d21-4f68-b1a4-7e2c8d9f0a13";
const USER: &str = "cf-platform";
const PASSWORD: &str = "osb-test-password-0123456789abcdef";
const HEROKU_PASSWORD: &str = "heroku-test-password-0123456789ab";
/// Fixed, so that a restarted app opens what the first one sealed.
const SALT: &str = "osb-test-sso-salt-0123456789abcdef";

/// A key-value service: `slow` provisions in the background, as a real datastore would.
#[derive(Default)]
struct Kv {
    provisions: AtomicUsize,
    deprovisions: AtomicUsize,
    /// `#[complete_provision]` fails while this is set.
    failing: AtomicBool,
    /// The originating identity each provision carried, by marketplace.
    seen: Mutex<Vec<(Marketplace, Option<String>)>>,
    /// `#[bind]` makes credentials of each binding's own while this is set (else the config).
    per_binding: AtomicBool,
    /// `#[bind]` fails while this is set.
    bind_failing: AtomicBool,
    binds: AtomicUsize,
    /// The binding ids `#[unbind]` revoked.
    unbound: Mutex<Vec<String>>,
}

impl Kv {
    fn url(uuid: &str) -> String {
        format!("https://kv.acme.example/tenants/{uuid}")
    }
}

impl Addon for Kv {
    const SPEC: AddonSpec = AddonSpec::new("acme-kv", "Acme KV", "https://kv.acme.example")
        .config_vars(&["ACME_KV_URL"])
        .plans(&["small", "large", "slow"])
        .osb(OsbService::new(SERVICE_ID).description("A key-value store").plan_ids(&[("small", SMALL_ID)]));

    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        self.provisions.fetch_add(1, Ordering::SeqCst);
        let user = request.originating_identity.as_ref().and_then(|i| i.user_id()).map(str::to_owned);
        self.seen.lock().unwrap().push((request.marketplace, user));
        if request.plan == "slow" {
            return Ok(Provisioned::later("Creating your store."));
        }
        Ok(Provisioned::new(Config::new().set(ConfigVar::new("ACME_KV_URL"), Self::url(&request.uuid))))
    }

    async fn complete_provision(&self, job: ProvisionJob) -> Result<Config, AddonError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(AddonError::unavailable("the storage cluster is down"));
        }
        Ok(Config::new().set(ConfigVar::new("ACME_KV_URL"), Self::url(&job.uuid)))
    }

    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        if request.plan == "slow" {
            return Ok(PlanChanged::later("Moving your store."));
        }
        Ok(PlanChanged::new())
    }

    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
        self.deprovisions.fetch_add(1, Ordering::SeqCst);
        Ok(Deprovisioned::now())
    }

    async fn sso(&self, _login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        Ok(SsoRedirect::to("/dashboard"))
    }

    async fn bind(&self, request: BindRequest) -> Result<Credentials, AddonError> {
        self.binds.fetch_add(1, Ordering::SeqCst);
        // Slow enough that concurrent binds of one id overlap.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.bind_failing.load(Ordering::SeqCst) {
            return Err(AddonError::unavailable("the user store is down"));
        }
        if !self.per_binding.load(Ordering::SeqCst) {
            return Ok(Credentials::from(request.config));
        }
        let app = request.app_guid.unwrap_or_default();
        let role = request.parameters.get("role").cloned().unwrap_or_default();
        Ok(Credentials::new()
            .set("username", format!("{app}-{role}-{}", request.binding_id))
            .set("password", format!("secret-{}", self.binds.load(Ordering::SeqCst))))
    }

    async fn unbind(&self, request: UnbindRequest) -> Result<(), AddonError> {
        self.unbound.lock().unwrap().push(request.binding_id);
        Ok(())
    }
}

/// The platform's side: every call with Basic auth and `X-Broker-API-Version: 2.17`.
struct Platform {
    url: String,
    client: reqwest::Client,
}

impl Platform {
    fn of(app: &TestApp) -> Self {
        Platform { url: app.url.clone(), client: app.client.clone() }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .basic_auth(USER, Some(PASSWORD))
            .header("X-Broker-API-Version", "2.17")
            .header("X-Broker-API-Request-Identity", "e26cea3c-2e6b-4d27-9a8f-0b2e1c3d4f5a")
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, body)
    }

    async fn provision(
        &self,
        id: &str,
        plan_id: &str,
        parameters: Value,
        incomplete: bool,
    ) -> (StatusCode, Value) {
        let query = if incomplete { "?accepts_incomplete=true" } else { "" };
        let body = json!({
            "service_id": SERVICE_ID, "plan_id": plan_id, "organization_guid": "org", "space_guid": "space",
            "context": {"platform": "cloudfoundry", "instance_name": "my-kv"}, "parameters": parameters,
        });
        self.send(Method::PUT, &format!("/v2/service_instances/{id}{query}"), Some(body)).await
    }

    async fn last_operation(&self, id: &str) -> (StatusCode, Value) {
        let path =
            format!("/v2/service_instances/{id}/last_operation?service_id={SERVICE_ID}&operation=provision");
        self.send(Method::GET, &path, None).await
    }

    async fn deprovision(&self, id: &str, plan_id: &str) -> (StatusCode, Value) {
        let path = format!(
            "/v2/service_instances/{id}?service_id={SERVICE_ID}&plan_id={plan_id}&accepts_incomplete=true"
        );
        self.send(Method::DELETE, &path, None).await
    }

    async fn bind(&self, id: &str, binding: &str, parameters: Value) -> (StatusCode, Value) {
        let body = json!({"service_id": SERVICE_ID, "plan_id": SMALL_ID, "bind_resource": {"app_guid": "app-1"}, "parameters": parameters});
        self.send(Method::PUT, &format!("/v2/service_instances/{id}/service_bindings/{binding}"), Some(body))
            .await
    }

    /// The catalog's id of a declared plan.
    async fn plan_id(&self, name: &str) -> String {
        let (_, catalog) = self.send(Method::GET, "/v2/catalog", None).await;
        let plans = catalog["services"][0]["plans"].as_array().unwrap().clone();
        plans.iter().find(|p| p["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    }
}

fn settings() -> addon_runtime::Settings {
    addon_runtime::Settings::development(HEROKU_PASSWORD, SALT)
        .with_osb_credentials(USER, PASSWORD)
        .with_job_poll(Duration::from_millis(20))
}

async fn serve(database: &TestDatabase, addon: Arc<Kv>) -> TestApp {
    TestApp::build_on(database, async move |store| App::new(addon, settings(), store)).await
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::postgres().await).await
                }
            )*
        }
    };
}

on_both_databases!(
    every_call_needs_the_credentials_and_a_version_2_header,
    the_catalog_comes_from_the_declaration,
    a_repeated_provision_is_200_when_identical_and_409_when_not,
    twenty_identical_provisions_at_once_create_one_instance,
    malformed_and_unknown_input_is_a_400_with_a_description,
    an_async_provision_without_accepts_incomplete_is_422_and_leaves_nothing,
    an_async_provision_is_polled_to_succeeded,
    an_async_provision_survives_a_restart_in_the_middle,
    a_bind_returns_the_config_as_credentials_and_repeats_identically,
    a_vendor_bind_makes_credentials_once_per_binding_and_unbind_revokes_them,
    update_fetch_and_deprovision,
    an_update_the_vendor_finishes_later_is_202_then_polled,
    a_failed_provision_is_cleaned_up_by_the_deprovision_that_follows,
    the_dashboard_url_signs_the_user_in,
    heroku_and_osb_share_one_process_and_registry_but_not_resources,
);

async fn every_call_needs_the_credentials_and_a_version_2_header(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let url = format!("{}/v2/catalog", app.url);
    let no_auth = app.client.get(&url).header("X-Broker-API-Version", "2.17").send().await.unwrap();
    assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);
    assert!(no_auth.json::<Value>().await.unwrap()["description"].as_str().unwrap().contains("Basic auth"));
    let wrong = app.client.get(&url).basic_auth(USER, Some("wrong")).header("X-Broker-API-Version", "2.17");
    assert_eq!(wrong.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Heroku's credentials are not the platform's.
    let heroku = app
        .client
        .get(&url)
        .basic_auth("acme-kv", Some(HEROKU_PASSWORD))
        .header("X-Broker-API-Version", "2.17");
    assert_eq!(heroku.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let missing = app.client.get(&url).basic_auth(USER, Some(PASSWORD)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = missing.json().await.unwrap();
    assert!(body["description"].as_str().unwrap().contains("X-Broker-API-Version"), "{body}");
    for version in ["3.0", "1.13", "two"] {
        let sent =
            app.client.get(&url).basic_auth(USER, Some(PASSWORD)).header("X-Broker-API-Version", version);
        assert_eq!(sent.send().await.unwrap().status(), StatusCode::PRECONDITION_FAILED, "{version}");
    }
    // Every route checks both, a provision's included (and nothing is recorded).
    let id = new_uuid();
    let put =
        app.client.put(format!("{}/v2/service_instances/{id}", app.url)).basic_auth(USER, Some(PASSWORD));
    let put = put.json(&json!({"service_id": SERVICE_ID, "plan_id": SMALL_ID})).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::PRECONDITION_FAILED);
    assert!(app.store.resource(&id).await.unwrap().is_none());
}

async fn the_catalog_comes_from_the_declaration(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let platform = Platform::of(&app);
    let (status, catalog) = platform.send(Method::GET, "/v2/catalog", None).await;
    assert_eq!(status, StatusCode::OK);
    let service = &catalog["services"][0];
    assert_eq!(service["id"], SERVICE_ID);
    assert_eq!(service["name"], "acme-kv");
    assert_eq!(service["description"], "A key-value store");
    assert_eq!(service["bindable"], true);
    assert_eq!(service["plan_updateable"], true);
    assert_eq!(service["instances_retrievable"], true);
    let plans = service["plans"].as_array().unwrap();
    let names: Vec<&str> = plans.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["small", "large", "slow"]);
    assert_eq!(plans[0]["id"], SMALL_ID);
    // Derived ids: UUID-shaped, distinct, and the same from another process of the same declaration.
    let large = plans[1]["id"].as_str().unwrap();
    assert_eq!(large.len(), 36);
    assert_ne!(large, plans[2]["id"].as_str().unwrap());
    let other = serve(&TestDatabase::sqlite(), Arc::default()).await;
    assert_eq!(Platform::of(&other).plan_id("large").await, large);
}

async fn a_repeated_provision_is_200_when_identical_and_409_when_not(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    let app = serve(&database, kv.clone()).await;
    let platform = Platform::of(&app);
    let id = new_uuid();
    let parameters = json!({"replicas": 2, "region": "eu"});
    let (status, created) = platform.provision(&id, SMALL_ID, parameters.clone(), false).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["dashboard_url"].as_str().unwrap().contains(&id));
    let (status, again) = platform.provision(&id, SMALL_ID, parameters.clone(), false).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, created);
    let large = platform.plan_id("large").await;
    let (status, body) = platform.provision(&id, &large, parameters, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["description"].as_str().unwrap().contains("already exists"), "{body}");
    let (status, _) = platform.provision(&id, SMALL_ID, json!({"replicas": 3}), false).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(kv.provisions.load(Ordering::SeqCst), 1, "replays and conflicts never reach the vendor");
    let record = app.store.resource(&id).await.unwrap().unwrap();
    assert_eq!(record.marketplace, Marketplace::OpenServiceBroker);
    assert_eq!(record.options["replicas"], "2");
    assert_eq!(record.name.as_deref(), Some("my-kv"));
}

async fn twenty_identical_provisions_at_once_create_one_instance(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    let app = serve(&database, kv.clone()).await;
    let platform = Arc::new(Platform::of(&app));
    let id = new_uuid();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (platform, id) = (platform.clone(), id.clone());
            tokio::spawn(async move { platform.provision(&id, SMALL_ID, json!({"size": 1}), false).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(kv.provisions.load(Ordering::SeqCst), 1);
}

async fn malformed_and_unknown_input_is_a_400_with_a_description(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let platform = Platform::of(&app);
    let id = new_uuid();
    let path = format!("/v2/service_instances/{id}");
    let cases = [
        json!({"service_id": "not-ours", "plan_id": SMALL_ID}),
        json!({"service_id": SERVICE_ID, "plan_id": "not-a-plan"}),
        json!({"plan_id": SMALL_ID}),
        json!({"service_id": SERVICE_ID, "plan_id": SMALL_ID, "parameters": [1, 2]}),
        json!([]),
    ];
    for body in cases {
        let (status, answer) = platform.send(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert!(!answer["description"].as_str().unwrap().is_empty(), "{answer}");
    }
    let raw =
        platform.request(Method::PUT, &path).header("content-type", "application/json").body("{not json");
    let response = raw.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.json::<Value>().await.unwrap()["description"].is_string());
    let bad_id = platform.send(Method::PUT, "/v2/service_instances/a%20b", Some(json!({}))).await;
    assert_eq!(bad_id.0, StatusCode::BAD_REQUEST, "{}", bad_id.1);
    assert!(app.store.resource(&id).await.unwrap().is_none());
}

async fn an_async_provision_without_accepts_incomplete_is_422_and_leaves_nothing(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    let app = serve(&database, kv.clone()).await;
    let platform = Platform::of(&app);
    let slow = platform.plan_id("slow").await;
    let id = new_uuid();
    let (status, body) = platform.provision(&id, &slow, json!({}), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "AsyncRequired");
    assert!(body["description"].as_str().unwrap().contains("accepts_incomplete=true"));
    assert!(app.store.resource(&id).await.unwrap().is_none(), "nothing recorded");
    // The platform's retry, able to poll, is accepted.
    let (status, body) = platform.provision(&id, &slow, json!({}), true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["operation"], "provision");
}

async fn an_async_provision_is_polled_to_succeeded(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    kv.failing.store(true, Ordering::SeqCst);
    let app = serve(&database, kv.clone()).await;
    let platform = Platform::of(&app);
    let slow = platform.plan_id("slow").await;
    let id = new_uuid();
    let (status, body) = platform.provision(&id, &slow, json!({}), true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, polled) = platform.last_operation(&id).await;
    assert_eq!((status, polled["state"].as_str()), (StatusCode::OK, Some("in progress")), "{polled}");
    // Binding must wait for it: 422 ConcurrencyError.
    let (status, busy) = platform.bind(&id, &new_uuid(), json!({})).await;
    assert_eq!(
        (status, &busy["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("ConcurrencyError")),
        "{busy}"
    );
    // A repeat while it runs is the same 202; fetching it is a 404 until it is ready.
    assert_eq!(platform.provision(&id, &slow, json!({}), true).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        platform.send(Method::GET, &format!("/v2/service_instances/{id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    kv.failing.store(false, Ordering::SeqCst);
    let succeeded = eventually(Duration::from_secs(20), async || {
        platform.last_operation(&id).await.1["state"] == "succeeded"
    })
    .await;
    assert!(succeeded, "{}", platform.last_operation(&id).await.1);
    let (status, instance) = platform.send(Method::GET, &format!("/v2/service_instances/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{instance}");
    assert_eq!(instance["plan_id"], slow);
    assert_eq!(platform.provision(&id, &slow, json!({}), true).await.0, StatusCode::OK);
}

async fn an_async_provision_survives_a_restart_in_the_middle(database: TestDatabase) {
    let first = TestApp::build_on(&database, async |store| {
        App::new(Arc::new(Kv::default()), settings(), store).map(App::without_job_runner)
    })
    .await;
    let platform = Platform::of(&first);
    let slow = platform.plan_id("slow").await;
    let id = new_uuid();
    assert_eq!(platform.provision(&id, &slow, json!({}), true).await.0, StatusCode::ACCEPTED);
    assert_eq!(platform.last_operation(&id).await.1["state"], "in progress");
    drop(first);

    let second = serve(&database, Arc::default()).await;
    let platform = Platform::of(&second);
    let succeeded = eventually(Duration::from_secs(20), async || {
        platform.last_operation(&id).await.1["state"] == "succeeded"
    })
    .await;
    assert!(succeeded, "{}", platform.last_operation(&id).await.1);
    let record = second.store.resource(&id).await.unwrap().unwrap();
    assert_eq!(record.config_var("ACME_KV_URL"), Some(Kv::url(&id).as_str()));
}

async fn a_bind_returns_the_config_as_credentials_and_repeats_identically(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let platform = Platform::of(&app);
    let id = new_uuid();
    assert_eq!(platform.provision(&id, SMALL_ID, json!({}), false).await.0, StatusCode::CREATED);
    let binding = new_uuid();
    let (status, bound) = platform.bind(&id, &binding, json!({"role": "reader"})).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    assert_eq!(bound["credentials"], json!({"ACME_KV_URL": Kv::url(&id)}));
    let (status, again) = platform.bind(&id, &binding, json!({"role": "reader"})).await;
    assert_eq!((status, &again), (StatusCode::OK, &bound));
    let (status, body) = platform.bind(&id, &binding, json!({"role": "writer"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let path = format!("/v2/service_instances/{id}/service_bindings/{binding}");
    let (status, fetched) = platform.send(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["credentials"], bound["credentials"]);
    assert_eq!(fetched["parameters"], json!({"role": "reader"}));
    // Credentials are sealed in the registry, like the config they copy.
    let stored: String =
        sqlx::query_scalar("SELECT credentials FROM addon_osb_bindings WHERE binding_id = $1")
            .bind(&binding)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(!stored.contains("kv.acme.example"), "{stored}");

    let polled = platform.send(Method::GET, &format!("{path}/last_operation"), None).await;
    assert_eq!((polled.0, &polled.1["state"]), (StatusCode::OK, &json!("succeeded")));
    let unbind = format!("{path}?service_id={SERVICE_ID}&plan_id={SMALL_ID}");
    assert_eq!(platform.send(Method::DELETE, &unbind, None).await, (StatusCode::OK, json!({})));
    assert_eq!(platform.send(Method::GET, &format!("{path}/last_operation"), None).await.0, StatusCode::GONE);
    assert_eq!(platform.send(Method::DELETE, &unbind, None).await, (StatusCode::GONE, json!({})));
    assert_eq!(platform.send(Method::GET, &path, None).await.0, StatusCode::NOT_FOUND);
    let unknown = platform.bind(&new_uuid(), &new_uuid(), json!({})).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{}", unknown.1);
}

async fn a_vendor_bind_makes_credentials_once_per_binding_and_unbind_revokes_them(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    kv.per_binding.store(true, Ordering::SeqCst);
    let app = serve(&database, kv.clone()).await;
    let platform = Arc::new(Platform::of(&app));
    let id = new_uuid();
    assert_eq!(platform.provision(&id, SMALL_ID, json!({}), false).await.0, StatusCode::CREATED);

    // Eight platforms' retries of one bind at once: the vendor is called once; one answer is
    // 201, the others the same credentials (200) or, while the first is under way, 422.
    let binding = new_uuid();
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (platform, id, binding) = (platform.clone(), id.clone(), binding.clone());
            tokio::spawn(async move { platform.bind(&id, &binding, json!({"role": "reader"})).await })
        })
        .collect();
    let mut created = None;
    for answer in tries {
        let (status, body) = answer.await.unwrap();
        match status {
            StatusCode::CREATED => assert!(created.replace(body).is_none(), "one bind creates"),
            StatusCode::OK => {}
            StatusCode::UNPROCESSABLE_ENTITY => assert_eq!(body["error"], "ConcurrencyError", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    let created = created.expect("one bind was answered 201");
    assert_eq!(created["credentials"]["username"], format!("app-1-reader-{binding}"));
    assert_eq!(kv.binds.load(Ordering::SeqCst), 1, "the vendor made the credentials once");
    let (status, again) = platform.bind(&id, &binding, json!({"role": "reader"})).await;
    assert_eq!((status, &again), (StatusCode::OK, &created));
    assert_eq!(kv.binds.load(Ordering::SeqCst), 1);

    // Another binding gets credentials of its own.
    let other = new_uuid();
    let (status, second) = platform.bind(&id, &other, json!({"role": "writer"})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["credentials"], created["credentials"]);

    // A bind the vendor fails records nothing: the platform's retry calls the vendor again.
    kv.bind_failing.store(true, Ordering::SeqCst);
    let third = new_uuid();
    let (status, body) = platform.bind(&id, &third, json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let path = |binding: &str| format!("/v2/service_instances/{id}/service_bindings/{binding}");
    assert_eq!(platform.send(Method::GET, &path(&third), None).await.0, StatusCode::NOT_FOUND);
    kv.bind_failing.store(false, Ordering::SeqCst);
    assert_eq!(platform.bind(&id, &third, json!({})).await.0, StatusCode::CREATED);
    assert_eq!(kv.binds.load(Ordering::SeqCst), 4);

    // Unbind revokes through the vendor, once; the record goes with it.
    let unbind = format!("{}?service_id={SERVICE_ID}&plan_id={SMALL_ID}", path(&binding));
    assert_eq!(platform.send(Method::DELETE, &unbind, None).await, (StatusCode::OK, json!({})));
    assert_eq!(platform.send(Method::DELETE, &unbind, None).await.0, StatusCode::GONE);
    assert_eq!(kv.unbound.lock().unwrap().as_slice(), std::slice::from_ref(&binding));
}

async fn update_fetch_and_deprovision(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    let app = serve(&database, kv.clone()).await;
    let platform = Platform::of(&app);
    let unknown = new_uuid();
    assert_eq!(platform.deprovision(&unknown, SMALL_ID).await, (StatusCode::GONE, json!({})));
    assert_eq!(platform.last_operation(&unknown).await.0, StatusCode::GONE);

    let id = new_uuid();
    assert_eq!(platform.provision(&id, SMALL_ID, json!({"size": 1}), false).await.0, StatusCode::CREATED);
    let binding = new_uuid();
    assert_eq!(platform.bind(&id, &binding, json!({})).await.0, StatusCode::CREATED);
    let large = platform.plan_id("large").await;
    let patch = json!({"service_id": SERVICE_ID, "plan_id": large, "previous_values": {"plan_id": SMALL_ID}});
    let (status, body) =
        platform.send(Method::PATCH, &format!("/v2/service_instances/{id}"), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, instance) = platform.send(Method::GET, &format!("/v2/service_instances/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (instance["service_id"].as_str(), instance["plan_id"].as_str()),
        (Some(SERVICE_ID), Some(large.as_str()))
    );
    assert_eq!(instance["parameters"], json!({"size": 1}));
    assert_eq!(app.store.resource(&id).await.unwrap().unwrap().plan, "large");
    let bad = json!({"service_id": SERVICE_ID, "plan_id": "nope"});
    assert_eq!(
        platform.send(Method::PATCH, &format!("/v2/service_instances/{id}"), Some(bad)).await.0,
        StatusCode::BAD_REQUEST
    );

    let no_ids = platform.send(Method::DELETE, &format!("/v2/service_instances/{id}"), None).await;
    assert_eq!(no_ids.0, StatusCode::BAD_REQUEST, "{}", no_ids.1);
    assert_eq!(platform.deprovision(&id, &large).await, (StatusCode::OK, json!({})));
    assert_eq!(platform.deprovision(&id, &large).await, (StatusCode::GONE, json!({})));
    assert_eq!(platform.last_operation(&id).await.0, StatusCode::GONE);
    assert_eq!(kv.deprovisions.load(Ordering::SeqCst), 1);
    // Its bindings went with it; the id is never provisioned again.
    let binding_path = format!("/v2/service_instances/{id}/service_bindings/{binding}");
    assert_eq!(platform.send(Method::GET, &binding_path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(platform.provision(&id, SMALL_ID, json!({}), false).await.0, StatusCode::CONFLICT);
    assert_eq!(app.store.resource(&id).await.unwrap().unwrap().state, ResourceState::Deprovisioned);
}

async fn an_update_the_vendor_finishes_later_is_202_then_polled(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let platform = Platform::of(&app);
    let id = new_uuid();
    assert_eq!(platform.provision(&id, SMALL_ID, json!({}), false).await.0, StatusCode::CREATED);
    let slow = platform.plan_id("slow").await;
    let patch = json!({"service_id": SERVICE_ID, "plan_id": slow});
    // A platform that cannot poll is told so, and the instance stays on its plan.
    let now_only = format!("/v2/service_instances/{id}");
    let (status, body) = platform.send(Method::PATCH, &now_only, Some(patch.clone())).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("AsyncRequired")),
        "{body}"
    );
    let (_, instance) = platform.send(Method::GET, &now_only, None).await;
    assert_eq!(instance["plan_id"], SMALL_ID);
    let path = format!("/v2/service_instances/{id}?accepts_incomplete=true");
    let (status, body) = platform.send(Method::PATCH, &path, Some(patch)).await;
    assert_eq!((status, &body), (StatusCode::ACCEPTED, &json!({"operation": "update"})));
    let poll = format!("/v2/service_instances/{id}/last_operation?operation=update");
    let succeeded = eventually(Duration::from_secs(20), async || {
        platform.send(Method::GET, &poll, None).await.1["state"] == "succeeded"
    })
    .await;
    assert!(succeeded);
    let (_, instance) = platform.send(Method::GET, &format!("/v2/service_instances/{id}"), None).await;
    assert_eq!(instance["plan_id"], slow);
}

async fn a_failed_provision_is_cleaned_up_by_the_deprovision_that_follows(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    kv.failing.store(true, Ordering::SeqCst);
    let clock = Arc::new(ManualClock::default());
    let (addon, time) = (kv.clone(), clock.clone());
    let app = TestApp::build_on(&database, async move |store| {
        App::new(addon, settings(), store).map(|app| app.with_clock(time))
    })
    .await;
    let platform = Platform::of(&app);
    let slow = platform.plan_id("slow").await;
    let id = new_uuid();
    assert_eq!(platform.provision(&id, &slow, json!({}), true).await.0, StatusCode::ACCEPTED);
    // Past the job's deadline, its next failure is final: the resource is failed.
    let failed = eventually(Duration::from_secs(20), async || {
        clock.advance(Duration::from_secs(13 * 60 * 60));
        platform.last_operation(&id).await.1["state"] == "failed"
    })
    .await;
    assert!(failed, "{}", platform.last_operation(&id).await.1);
    // Orphan mitigation: the platform deletes it, the vendor cleans up, and it is gone.
    assert_eq!(platform.deprovision(&id, &slow).await, (StatusCode::OK, json!({})));
    assert_eq!(kv.deprovisions.load(Ordering::SeqCst), 1);
    assert_eq!(platform.last_operation(&id).await.0, StatusCode::GONE);
}

async fn the_dashboard_url_signs_the_user_in(database: TestDatabase) {
    let app = serve(&database, Arc::default()).await;
    let platform = Platform::of(&app);
    let id = new_uuid();
    let (_, created) = platform.provision(&id, SMALL_ID, json!({}), false).await;
    let dashboard = created["dashboard_url"].as_str().unwrap().to_owned();
    // The link names the app's public origin; the test server listens elsewhere.
    let path = &dashboard[dashboard.find("/osb/dashboard/").unwrap()..];
    let response = app.client.get(format!("{}{path}", app.url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/dashboard");
    let cookie = addon_tests::set_cookie(&response, "addon_session").expect("a session cookie");
    assert!(!cookie.is_empty());
    let forged = path.replace("token=", "token=0");
    assert_eq!(
        app.client.get(format!("{}{forged}", app.url)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let other = path.replace(&id, &new_uuid());
    assert_eq!(
        app.client.get(format!("{}{other}", app.url)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Deleted, its link signs nobody in.
    assert_eq!(platform.deprovision(&id, SMALL_ID).await.0, StatusCode::OK);
    assert_ne!(
        app.client.get(format!("{}{path}", app.url)).send().await.unwrap().status(),
        StatusCode::FOUND
    );
}

async fn heroku_and_osb_share_one_process_and_registry_but_not_resources(database: TestDatabase) {
    let kv = Arc::new(Kv::default());
    let app = serve(&database, kv.clone()).await;
    let platform = Platform::of(&app);
    let heroku_uuid = new_uuid();
    let response = app.provision(&v3_body(&heroku_uuid, "small")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let osb_id = new_uuid();
    let identity = "cloudfoundry eyJ1c2VyX2lkIjogIjY4M2VhNzQ4LTMwOTItNGZmNC1iNjU2LTM5Y2FjYzRkNTM2MCJ9";
    let body = json!({"service_id": SERVICE_ID, "plan_id": SMALL_ID});
    let request = platform.request(Method::PUT, &format!("/v2/service_instances/{osb_id}"));
    let created =
        request.header("X-Broker-API-Originating-Identity", identity).json(&body).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        kv.seen.lock().unwrap().as_slice(),
        &[
            (Marketplace::Heroku, None),
            (Marketplace::OpenServiceBroker, Some("683ea748-3092-4ff4-b656-39cacc4d5360".to_owned()))
        ]
    );
    // Each marketplace's resource is invisible to the other.
    assert_eq!(platform.provision(&heroku_uuid, SMALL_ID, json!({}), false).await.0, StatusCode::CONFLICT);
    assert_eq!(platform.deprovision(&heroku_uuid, SMALL_ID).await.0, StatusCode::GONE);
    assert_eq!(platform.bind(&heroku_uuid, &new_uuid(), json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.provision(&v3_body(&osb_id, "small")).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.deprovision(&osb_id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(kv.provisions.load(Ordering::SeqCst), 2);
    assert_eq!(kv.deprovisions.load(Ordering::SeqCst), 0);
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn the_platform_credentials_are_required_in_production_and_checked() {
    let production = [
        ("ADDON_ENV", "production"),
        ("ADDON_PASSWORD", "p4ssw0rd-of-heroku"),
        ("ADDON_SSO_SALT", "s4lt-of-heroku"),
        ("ADDON_SESSION_KEY", "a-session-key-of-32-characters-at-least"),
    ];
    let error = |pairs: &[(&str, &str)]| match addon_runtime::Settings::from_vars::<Kv>(vars(pairs)) {
        Err(addon_runtime::Error::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    };
    let message = error(&production);
    assert!(message.contains("ADDON_OSB_USERNAME") && message.contains("ADDON_OSB_PASSWORD"), "{message}");
    let same =
        [&production[..], &[("ADDON_OSB_USERNAME", "cf"), ("ADDON_OSB_PASSWORD", "p4ssw0rd-of-heroku")]]
            .concat();
    assert!(error(&same).contains("same as ADDON_PASSWORD"), "{}", error(&same));
    let half = [("ADDON_PASSWORD", "p"), ("ADDON_SSO_SALT", "s"), ("ADDON_OSB_USERNAME", "cf")];
    assert!(error(&half).contains("ADDON_OSB_PASSWORD is not set"), "{}", error(&half));
    let full =
        [&production[..], &[("ADDON_OSB_USERNAME", "cf"), ("ADDON_OSB_PASSWORD", "another-secret")]].concat();
    let settings = addon_runtime::Settings::from_vars::<Kv>(vars(&full)).unwrap();
    let debug = format!("{settings:?}");
    assert!(debug.contains("\"cf\"") && !debug.contains("another-secret"), "{debug}");
}
