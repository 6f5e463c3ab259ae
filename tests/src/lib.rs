//! Shared pieces of the behaviour tests: an add-on whose plan names choose how it misbehaves,
//! a server on a loopback port, and a client that speaks to it the way Heroku does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use addon_runtime::prelude::*;
use addon_runtime::{App, Settings, SignedOut, Store, TokenKind};
use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub const PASSWORD: &str = "test-password-0123456789abcdefgh";
pub const SALT: &str = "test-sso-salt-0123456789abcdefghi";
pub const ID: &str = "test-addon";

/// Counts the calls that reached the vendor, so tests can tell a replay from a second call.
#[derive(Debug, Default)]
pub struct TestAddon {
    pub provisions: AtomicUsize,
    pub plan_changes: AtomicUsize,
    pub deprovisions: AtomicUsize,
    pub sso_logins: AtomicUsize,
    /// The token kind and user email of the last SSO login.
    pub last_login: std::sync::Mutex<Option<(TokenKind, Option<String>)>>,
    /// When each plan change and deprovision ran (unix nanoseconds, start and end), to prove
    /// that calls for one resource never overlap.
    pub spans: std::sync::Mutex<Vec<(u128, u128)>>,
}

/// Records the span of a vendor call when dropped.
struct Span<'a> {
    spans: &'a std::sync::Mutex<Vec<(u128, u128)>>,
    start: u128,
}

impl<'a> Span<'a> {
    fn enter(spans: &'a std::sync::Mutex<Vec<(u128, u128)>>) -> Self {
        Span { spans, start: unix_nanos() }
    }
}

impl Drop for Span<'_> {
    fn drop(&mut self) {
        self.spans.lock().unwrap().push((self.start, unix_nanos()));
    }
}

pub fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// Whether any two spans overlap.
pub fn overlapping(spans: &mut [(u128, u128)]) -> bool {
    spans.sort_unstable();
    spans.windows(2).any(|pair| pair[1].0 < pair[0].1)
}

fn count(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

impl TestAddon {
    pub fn calls(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}

/// The plan names choose a behaviour: `panic`, `fail`, `teapot`, `io`, `slow`, `undeclared`,
/// `bad-url`, `no-drain`, `custom-id`, `sticky` (cannot be deprovisioned); anything else succeeds.
#[heroku_addon(
    id = "test-addon",
    name = "Test Add-on",
    config_vars = ["TEST_ADDON_URL", "TEST_ADDON_TOKEN"],
    regions = ["us", "eu"],
    requires = ["syslog_drain"],
    production = "https://test-addon.example",
)]
impl TestAddon {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        count(&self.provisions);
        let config = Config::new()
            .set(Self::TEST_ADDON_URL, format!("https://test-addon.example/r/{}", request.uuid))
            .set(Self::TEST_ADDON_TOKEN, "token-1");
        let provisioned =
            Provisioned::new(config.clone()).with_log_drain_url("https://test-addon.example/drain");
        Ok(match request.plan.as_str() {
            "slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                provisioned
            }
            "concurrent" => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                provisioned
            }
            "undeclared" => Provisioned::new(config.set(ConfigVar::new("TEST_ADDON_OTHER"), "x"))
                .with_log_drain_url("https://test-addon.example/drain"),
            "bad-url" => Provisioned::new(config.set(Self::TEST_ADDON_URL, "not a url"))
                .with_log_drain_url("https://test-addon.example/drain"),
            "no-drain" => Provisioned::new(config),
            "custom-id" => provisioned.with_id(format!("acct-{}", request.uuid)),
            other => return misbehave(other).map(|()| provisioned.with_message("Ready.")),
        })
    }

    #[plan_change]
    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        count(&self.plan_changes);
        let _span = Span::enter(&self.spans);
        if request.plan == "slow" {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        misbehave(&request.plan)?;
        let config = Config::new().set(Self::TEST_ADDON_TOKEN, format!("token-{}", request.plan));
        Ok(PlanChanged::new()
            .with_config(config)
            .with_message(format!("Moved from {} to {}.", request.previous_plan, request.plan)))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        count(&self.deprovisions);
        let _span = Span::enter(&self.spans);
        tokio::time::sleep(Duration::from_millis(20)).await;
        if request.plan == "sticky" {
            return Err(AddonError::new("Export your data before removing the add-on."));
        }
        misbehave(&request.plan)
    }

    #[sso]
    async fn sso(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        count(&self.sso_logins);
        *self.last_login.lock().unwrap() = Some((login.token, login.user.and_then(|u| u.email)));
        Ok(SsoRedirect::to(format!("/resources/{}", login.uuid)))
    }
}

fn misbehave(plan: &str) -> Result<(), AddonError> {
    match plan {
        "panic" => panic!("the vendor's code panicked"),
        "fail" => Err(AddonError::new("That plan is sold out in this region.")),
        "teapot" => Err(AddonError::new("I am a teapot.").with_status(axum::http::StatusCode::IM_A_TEAPOT)),
        "io" => Err(std::io::Error::other("disk /dev/secret-volume is full"))?,
        _ => Ok(()),
    }
}

/// A vendor page behind the session: shows who is signed in, refuses other resources.
fn vendor_routes() -> Router {
    async fn resource_page(
        Path(uuid): Path<String>,
        session: Session,
    ) -> Result<Json<serde_json::Value>, AddonError> {
        session.require(&uuid)?;
        Ok(Json(serde_json::json!({ "uuid": session.uuid(), "email": session.email() })))
    }
    Router::new().route("/resources/{uuid}", get(resource_page))
}

/// A running add-on on a loopback port, with Heroku's side of the conversation (through
/// `Deref`, `server.provision(..)` speaks as Heroku does).
#[derive(Debug)]
pub struct TestServer {
    pub heroku: Heroku,
    pub addon: Arc<TestAddon>,
    pub store: Store,
}

impl std::ops::Deref for TestServer {
    type Target = Heroku;

    fn deref(&self) -> &Heroku {
        &self.heroku
    }
}

/// Heroku's side: a client that calls an add-on at `url` the way Heroku does.
#[derive(Debug, Clone)]
pub struct Heroku {
    pub url: String,
    pub client: reqwest::Client,
    /// The Basic auth user: the add-on's id.
    pub user: &'static str,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Settings::development(PASSWORD, SALT)).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        Self::start_on(settings, sqlite_store().await).await
    }

    /// A server on PostgreSQL (`TEST_DATABASE_URL`).
    pub async fn start_postgres() -> Self {
        Self::start_on(Settings::development(PASSWORD, SALT), postgres_store().await).await
    }

    pub async fn start_on(settings: Settings, store: Store) -> Self {
        Self::start_full(settings, store, SignedOut::default()).await
    }

    /// A server whose signed-out browsers get what `signed_out` says.
    pub async fn start_signed_out(settings: Settings, signed_out: SignedOut) -> Self {
        Self::start_full(settings, sqlite_store().await, signed_out).await
    }

    pub async fn start_full(settings: Settings, store: Store, signed_out: SignedOut) -> Self {
        let addon = Arc::new(TestAddon::default());
        let app = App::new(addon.clone(), settings, store.clone()).expect("valid settings");
        let url = serve(app.with_signed_out(signed_out).with_routes(vendor_routes())).await;
        Self { heroku: Heroku::new(url), addon, store }
    }
}

impl Heroku {
    /// Heroku calling the test add-on at `url`.
    pub fn new(url: String) -> Self {
        Heroku { url, client: client(), user: ID }
    }

    /// `POST /heroku/resources` with Heroku's credentials and headers.
    pub async fn provision(&self, body: &serde_json::Value) -> reqwest::Response {
        self.heroku(reqwest::Method::POST, "/heroku/resources")
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn plan_change(&self, id: &str, plan: &str) -> reqwest::Response {
        let body = serde_json::json!({ "plan": plan, "heroku_id": "app123@heroku.com" });
        self.heroku(reqwest::Method::PUT, &format!("/heroku/resources/{id}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn deprovision(&self, id: &str) -> reqwest::Response {
        self.heroku(reqwest::Method::DELETE, &format!("/heroku/resources/{id}")).send().await.unwrap()
    }

    /// A request with Heroku's credentials and v3 `Accept` header; the caller sets the body and
    /// its content type.
    pub fn heroku(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .basic_auth(self.user, Some(PASSWORD))
            .header("Accept", "application/vnd.heroku-addons+json; version=3")
    }

    /// Posts an SSO form the way Heroku's dashboard does.
    pub async fn sso_post(&self, form: &[(&str, String)]) -> reqwest::Response {
        let body = serde_urlencoded(form);
        self.client
            .post(format!("{}/sso/login", self.url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// A registry in a fresh SQLite file under the workspace's `target/`.
pub async fn sqlite_store() -> Store {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-databases");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.db", new_uuid()));
    Store::open(&format!("sqlite://{}", path.display())).await.expect("a SQLite registry")
}

/// The PostgreSQL registry the test script started (`TEST_DATABASE_URL`). Tests that need it
/// fail, rather than skip, without it: `scripts/test.sh` provides one.
pub async fn postgres_store() -> Store {
    let url = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests with `bash scripts/test.sh`, which starts PostgreSQL",
    );
    Store::open(&url).await.expect("a PostgreSQL registry at TEST_DATABASE_URL")
}

/// Serves an app on 127.0.0.1 with an OS-chosen port; returns its base URL.
pub async fn serve<A: Addon>(app: App<A>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app.serve_on(listener));
    url
}

/// A client that does not follow redirects (tests look at them) and gives up after 10 s.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A v3 provision body with every documented field.
pub fn v3_body(uuid: &str, plan: &str) -> serde_json::Value {
    serde_json::json!({
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"),
        "name": "acme-inc-primary-logs",
        "oauth_grant": {"code": "01234567-89ab-cdef-0123-456789abcdef", "expires_at": "2016-03-03T18:01:31-0800", "type": "authorization_code"},
        "options": {"foo": "bar", "baz": "true"},
        "plan": plan,
        "region": "amazon-web-services::us-east-1",
        "uuid": uuid,
        "log_input_url": "https://token:t.01234567@1.us.logplex.io/logs",
        "log_drain_token": "d.01234567-89ab-cdef-0123-456789abcdef"
    })
}

/// A fresh uuid-shaped id for each test resource.
pub fn new_uuid() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{:08x}-0000-4000-8000-{:012x}", nanos, n)
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub fn sha1_hex(input: &str) -> String {
    Sha1::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(input: &str) -> String {
    Sha256::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The v3 SSO form: `resource_id` and `resource_token`.
pub fn resource_token_form(uuid: &str, salt: &str, timestamp: u64) -> Vec<(&'static str, String)> {
    vec![
        ("resource_id", uuid.to_owned()),
        ("resource_token", sha1_hex(&format!("{uuid}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("email", "user@example.com".to_owned()),
        ("app", "my-app".to_owned()),
    ]
}

/// The 2026 form: `user_scoped_resource_token` over the resource and the user.
pub fn user_scoped_form(
    uuid: &str,
    salt: &str,
    timestamp: u64,
    user_id: &str,
    email: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("resource_id", uuid.to_owned()),
        ("user_scoped_resource_token", sha256_hex(&format!("{uuid}:{salt}:{timestamp}:{user_id}:{email}"))),
        ("resource_token", sha1_hex(&format!("{uuid}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("user_id", user_id.to_owned()),
        ("email", email.to_owned()),
        ("context_app", "my-app".to_owned()),
    ]
}

/// The legacy form: `id` and `token`.
pub fn legacy_form(id: &str, salt: &str, timestamp: u64) -> Vec<(&'static str, String)> {
    vec![
        ("id", id.to_owned()),
        ("token", sha1_hex(&format!("{id}:{salt}:{timestamp}"))),
        ("timestamp", timestamp.to_string()),
        ("nav-data", "eyJhZGRvbiI6IlRlc3QifQ".to_owned()),
        ("email", "user@example.com".to_owned()),
    ]
}

/// `application/x-www-form-urlencoded`, escaping what the form's values need.
pub fn serde_urlencoded(form: &[(&str, String)]) -> String {
    form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `Set-Cookie` header that sets `name`, if any.
pub fn set_cookie<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// `name=value` of a `Set-Cookie` header, for a `Cookie` request header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Checks a response is an error with a JSON `{"message": ...}` body, and returns the message.
pub async fn json_message(response: reqwest::Response) -> String {
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/json"), "errors are JSON");
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    body["message"].as_str().expect("a `message` string").to_owned()
}

/// An add-on that implements `Addon` by hand, without the macro and without an SSO method.
pub mod hand_written {
    use std::sync::Arc;

    use addon_runtime::{
        Addon, AddonError, AddonSpec, App, Config, ConfigVar, DeprovisionRequest, PlanChangeRequest,
        PlanChanged, ProvisionRequest, Provisioned, Settings,
    };

    #[derive(Debug)]
    pub struct Plain;

    const URL: ConfigVar = ConfigVar::new("PLAIN_URL");

    impl Addon for Plain {
        const SPEC: AddonSpec =
            AddonSpec::new("plain", "Plain", "https://plain.example").config_vars(&["PLAIN_URL"]);

        async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
            Ok(Provisioned::new(Config::new().set(URL, format!("https://plain.example/{}", request.uuid))))
        }

        async fn plan_change(&self, _: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
            Ok(PlanChanged::new())
        }

        async fn deprovision(&self, _: DeprovisionRequest) -> Result<(), AddonError> {
            Ok(())
        }
    }

    /// Serves `Plain` with the test secrets; its Basic auth user is `plain`.
    pub async fn start() -> super::TestServer {
        let store = super::sqlite_store().await;
        let settings = Settings::development(super::PASSWORD, super::SALT);
        let app = App::new(Arc::new(Plain), settings, store.clone()).unwrap();
        let url = super::serve(app).await;
        let heroku = super::Heroku { user: "plain", ..super::Heroku::new(url) };
        super::TestServer { heroku, addon: Arc::default(), store }
    }
}
