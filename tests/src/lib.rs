//! Shared pieces of the behaviour tests: an add-on whose plan names choose how it misbehaves,
//! served by the runtime's test kit, and the test binary's process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use addon_runtime::prelude::*;
pub use addon_runtime::testing::{
    client, cookie_pair, eventually, legacy_form, new_uuid, now, resource_token_form, set_cookie, sha1_hex,
    sha256_hex, urlencode, user_scoped_form, v3_body, FakeHeroku, Process, Simulator, TestApp, TestDatabase,
};
pub use addon_runtime::Session;
use addon_runtime::{App, Settings, SignedOut, TokenKind};
use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};

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
    /// Calls of the three completion methods.
    pub completions: AtomicUsize,
    /// The resources `#[complete_provision]` ran for, once per call.
    pub completed: std::sync::Mutex<Vec<String>>,
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
/// `bad-url`, `no-drain`, `custom-id`, `sticky` (cannot be deprovisioned), `later*` (a 202);
/// any other declared plan succeeds.
#[heroku_addon(
    id = "test-addon",
    name = "Test Add-on",
    config_vars = ["TEST_ADDON_URL", "TEST_ADDON_TOKEN"],
    plans = [
        "test", "basic", "pro", "small", "concurrent", "slow", "undeclared", "bad-url", "no-drain",
        "custom-id", "sticky", "later", "later-slow", "later-drain", "later-bad-drain", "later-plan",
        "panic", "fail", "teapot", "io",
    ],
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
            "later" | "later-slow" => Provisioned::later("Your resource is being created."),
            "later-drain" => Provisioned::later("Your resource is being created.")
                .with_log_drain_url("https://test-addon.example/drain"),
            "later-bad-drain" => Provisioned::later("Your resource is being created.")
                .with_log_drain_url("ftp://test-addon.example/drain"),
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
        if request.plan == "later-plan" {
            return Ok(PlanChanged::later("Resizing your resource."));
        }
        misbehave(&request.plan)?;
        let config = Config::new().set(Self::TEST_ADDON_TOKEN, format!("token-{}", request.plan));
        Ok(PlanChanged::new()
            .with_config(config)
            .with_message(format!("Moved from {} to {}.", request.previous_plan, request.plan)))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
        count(&self.deprovisions);
        let _span = Span::enter(&self.spans);
        tokio::time::sleep(Duration::from_millis(20)).await;
        match request.plan.as_str() {
            "sticky" => Err(AddonError::new("Export your data before removing the add-on.")),
            "later-plan" => Ok(Deprovisioned::later("Removing your data.")),
            plan => misbehave(plan).map(|()| Deprovisioned::now()),
        }
    }

    #[complete_provision]
    async fn finish_provision(&self, job: ProvisionJob) -> Result<Config, AddonError> {
        count(&self.completions);
        self.completed.lock().unwrap().push(job.uuid.clone());
        if job.plan == "later-slow" {
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
        Ok(Config::new()
            .set(Self::TEST_ADDON_URL, format!("https://test-addon.example/r/{}", job.uuid))
            .set(Self::TEST_ADDON_TOKEN, format!("async-token-{}", job.attempt)))
    }

    #[complete_plan_change]
    async fn finish_plan_change(&self, job: PlanChangeJob) -> Result<Config, AddonError> {
        count(&self.completions);
        Ok(Config::new().set(Self::TEST_ADDON_TOKEN, format!("resized-from-{}", job.previous_plan)))
    }

    #[complete_deprovision]
    async fn finish_deprovision(&self, _job: DeprovisionJob) -> Result<(), AddonError> {
        count(&self.completions);
        Ok(())
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
        Ok(Json(serde_json::json!({
            "uuid": session.uuid(),
            "email": session.email(),
            "vouched": session.vouched(),
            "vouched_email": session.vouched_email(),
        })))
    }
    Router::new().route("/resources/{uuid}", get(resource_page))
}

/// The test add-on served by the kit ([`TestApp`]: a loopback port, a throwaway registry), with
/// its counters. Through `Deref`, `server.provision(..)` speaks as Heroku does.
#[derive(Debug)]
pub struct TestServer {
    pub app: TestApp,
    pub addon: Arc<TestAddon>,
}

impl std::ops::Deref for TestServer {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Heroku calling the test add-on at `url` (a process of its own).
pub fn heroku_at(url: String) -> Simulator {
    Simulator::new(url, ID, PASSWORD, SALT)
}

/// Development settings with the test secrets.
pub fn settings() -> Settings {
    Settings::development(PASSWORD, SALT)
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(settings()).await
    }

    /// A server on a SQLite registry of its own.
    pub async fn start_with(settings: Settings) -> Self {
        Self::start_on(settings, &TestDatabase::sqlite()).await
    }

    /// A server on a PostgreSQL database of its own (`TEST_DATABASE_URL`'s server).
    pub async fn start_postgres() -> Self {
        Self::start_on(settings(), &TestDatabase::postgres().await).await
    }

    pub async fn start_on(settings: Settings, database: &TestDatabase) -> Self {
        Self::start_clocked(settings, database, SignedOut::default(), Arc::new(addon_runtime::SystemClock))
            .await
    }

    /// A server on a store the test opened itself (through a relay, say).
    pub async fn start_on_store(settings: Settings, store: addon_runtime::Store) -> Self {
        let addon = Arc::new(TestAddon::default());
        let app =
            App::new(addon.clone(), settings, store).expect("valid settings").with_routes(vendor_routes());
        Self { app: TestApp::serve(app).await, addon }
    }

    /// A server whose signed-out browsers get what `signed_out` says.
    pub async fn start_signed_out(settings: Settings, signed_out: SignedOut) -> Self {
        let clock = Arc::new(addon_runtime::SystemClock);
        Self::start_clocked(settings, &TestDatabase::sqlite(), signed_out, clock).await
    }

    /// A server whose every reading of time comes from `clock` (a `ManualClock` the test moves).
    pub async fn start_clocked(
        settings: Settings,
        database: &TestDatabase,
        signed_out: SignedOut,
        clock: Arc<dyn addon_runtime::Clock>,
    ) -> Self {
        let addon = Arc::new(TestAddon::default());
        let shared = addon.clone();
        let app = TestApp::build_on(database, async |store| {
            let app = App::new(shared, settings, store)?.with_clock(clock);
            Ok::<_, addon_runtime::Error>(app.with_signed_out(signed_out).with_routes(vendor_routes()))
        })
        .await;
        Self { app, addon }
    }
}

/// A server in a process of its own (the `test-addon-server` binary), killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    pub process: Process,
    pub url: String,
}

impl ServerProcess {
    /// Starts `binary` (a test's `env!("CARGO_BIN_EXE_test-addon-server")`) with `envs` and waits
    /// for its `listening on` line.
    pub fn start(binary: &str, envs: &[(&str, &str)]) -> ServerProcess {
        let mut command = std::process::Command::new(binary);
        command.envs(envs.iter().copied());
        let (process, line) = Process::start(&mut command, "listening on ", Duration::from_secs(20));
        let url = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
        ServerProcess { process, url }
    }

    /// Kills the process at once (SIGKILL: nothing is cleaned up) and waits for it.
    pub fn kill(&mut self) {
        self.process.kill();
    }
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
        Addon, AddonError, AddonSpec, App, Config, ConfigVar, DeprovisionRequest, Deprovisioned,
        PlanChangeRequest, PlanChanged, ProvisionRequest, Provisioned,
    };

    #[derive(Debug)]
    pub struct Plain;

    const URL: ConfigVar = ConfigVar::new("PLAIN_URL");

    impl Addon for Plain {
        const SPEC: AddonSpec = AddonSpec::new("plain", "Plain", "https://plain.example")
            .config_vars(&["PLAIN_URL"])
            .plans(&["test", "basic", "pro"]);

        async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
            Ok(Provisioned::new(Config::new().set(URL, format!("https://plain.example/{}", request.uuid))))
        }

        async fn plan_change(&self, _: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
            Ok(PlanChanged::new())
        }

        async fn deprovision(&self, _: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
            Ok(Deprovisioned::now())
        }
    }

    /// Serves `Plain` with the test secrets; its Basic auth user is `plain`.
    pub async fn start() -> super::TestServer {
        let app =
            super::TestApp::build(async |store| App::new(Arc::new(Plain), super::settings(), store)).await;
        super::TestServer { app, addon: Arc::default() }
    }
}
