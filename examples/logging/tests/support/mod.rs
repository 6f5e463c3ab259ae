//! What acme-logs' tests share beyond the runtime's kit: the example served (in this process,
//! or its binary on a test database), its tenants, and Logplex's side of the drain.

// Each test binary uses some of these helpers, none uses all.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use acme_logs::Limits;
use addon_runtime::testing::reqwest::{self, RequestBuilder, Response, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{
    cookie_pair, now, set_cookie, user_scoped_form, Process, Simulator, TestApp, TestDatabase,
};
use addon_runtime::{Clock, Manifest, Session, Settings, SystemClock};

/// The in-process service's secrets, fixed so tests can sign SSO forms of their own (the
/// binary reads the manifest's).
pub const PASSWORD: &str = "acme-test-password-0123456789abc";
pub const SALT: &str = "acme-test-sso-salt-0123456789abcd";

/// The example served in this process on `database`, exactly as `main` assembles it.
pub async fn serve_in_process(database: &TestDatabase) -> TestApp {
    serve_with(database, Limits::default(), Arc::new(SystemClock)).await
}

/// [`serve_in_process`] with other rate limits, reading time from `clock`.
pub async fn serve_with(database: &TestDatabase, limits: Limits, clock: Arc<dyn Clock>) -> TestApp {
    let settings = Settings::development(PASSWORD, SALT);
    TestApp::build_on(database, async |store| acme_logs::app_with(settings, store, limits, clock).await).await
}

/// The example's binary, killed when the test ends, then its registry removed.
pub struct Example {
    pub origin: String,
    /// Heroku as the manifest the build wrote describes it, calling this process.
    pub heroku: Simulator,
    // Before `_database`: fields drop in order, so the process is gone before its registry is.
    _process: Process,
    _database: TestDatabase,
}

/// How long the binary may take to say it listens.
pub const READY_WITHIN: Duration = Duration::from_secs(20);

/// The binary, its log shown with the test's, once it says it listens on `database`.
pub fn start_example(database: &TestDatabase) -> Example {
    let (mut command, origin) = example_command(database);
    let (process, _) = Process::start(command.stderr(Stdio::inherit()), "listening on", READY_WITHIN);
    let heroku = Simulator::from_manifest(&manifest()).expect("the manifest has test URLs").at(&origin);
    Example { origin, heroku, _process: process, _database: database.clone() }
}

/// The binary's command, with no configuration but a free port and `database`'s URL; the
/// origin it will listen on.
pub fn example_command(database: &TestDatabase) -> (Command, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acme-logs"));
    command
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "0");
    (command, format!("http://127.0.0.1:{port}"))
}

/// The manifest `cargo build` wrote, with the secrets the binary runs with.
pub fn manifest() -> Manifest {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/addon-manifest.json");
    Manifest::from_json(&std::fs::read_to_string(path).expect("cargo build wrote the manifest")).unwrap()
}

/// A provisioned tenant: what Heroku set on its app, and its drain token.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub uuid: String,
    pub drain_token: String,
    /// `ACME_LOGS_URL`, moved to the port the example listens on.
    pub url: String,
    /// `ACME_LOGS_TOKEN`.
    pub token: String,
}

/// Provisions a tenant on `plan` as Heroku would, with the drain token `d.<uuid>`; panics unless
/// it succeeds.
pub async fn tenant(heroku: &Simulator, plan: &str) -> Tenant {
    let uuid = addon_runtime::testing::new_uuid();
    let drain_token = format!("d.{uuid}");
    let body = json!({
        "uuid": uuid, "plan": plan, "region": "amazon-web-services::us-east-1",
        "name": format!("acme-logs-{}", &uuid[..8]), "log_drain_token": drain_token,
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"), "options": {}
    });
    let response = heroku.provision(&body).await;
    assert_eq!(response.status(), StatusCode::OK, "provisioning {uuid}");
    let answer: Value = response.json().await.unwrap();
    let config = &answer["config"];
    // In this process the service announces its default public origin, not its port.
    let url = config["ACME_LOGS_URL"].as_str().unwrap().replace("http://127.0.0.1:5000", &heroku.url);
    let token = config["ACME_LOGS_TOKEN"].as_str().unwrap().to_owned();
    Tenant { uuid, drain_token, url, token }
}

/// A request to `origin`'s drain as Logplex sends one for the drain `token`; the caller adds
/// the content type, the frame's headers and its body.
pub fn to_drain(client: &reqwest::Client, origin: &str, token: &str) -> RequestBuilder {
    client
        .post(format!("{origin}/drain"))
        .header("User-Agent", "Logplex/v72")
        .header("Logplex-Drain-Token", token)
}

/// Posts a frame as Logplex does, with its id and message count when given.
pub async fn post_frame(
    client: &reqwest::Client,
    origin: &str,
    token: &str,
    frame_id: Option<&str>,
    count: Option<usize>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = to_drain(client, origin, token).header("Content-Type", "application/logplex-1");
    if let Some(id) = frame_id {
        request = request.header("Logplex-Frame-Id", id);
    }
    if let Some(count) = count {
        request = request.header("Logplex-Msg-Count", count.to_string());
    }
    request.body(body).send().await.unwrap()
}

/// One framed syslog line from the app's `process` at `at` (RFC 3339).
pub fn app_line(at: &str, process: &str, text: &str) -> String {
    acme_logs::logplex::frame(&format!("<190>1 {at} host app {process} - {text}\n"))
}

/// A frame of `count` lines of about `width` bytes each, logged 2026-11-27 at 10:00 UTC.
pub fn lines(count: usize, width: usize) -> String {
    let at = "2026-11-27T10:00:00.000000+00:00";
    (0..count).map(|i| app_line(at, "web.1", &format!("line {i} {}", "x".repeat(width)))).collect()
}

/// A refusal's JSON message, checked to be one.
pub async fn message(response: Response) -> String {
    assert_eq!(response.headers()["content-type"], "application/json", "refusals are JSON");
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().expect("a message").to_owned()
}

/// The user Heroku's dashboard signs in, and vouches for with the user-scoped token.
pub const EMAIL: &str = "dev@shop.example";

/// The SSO form Heroku's dashboard posts for `uuid` now, signed with `salt`: both v3 tokens.
pub fn sso_form(uuid: &str, salt: &str) -> Vec<(&'static str, String)> {
    user_scoped_form(uuid, salt, now(), "4f2c9a1e-user", EMAIL)
}

/// Signs in to `uuid`'s dashboard through SSO; the `Cookie` header value a browser would then
/// send.
pub async fn sign_in(heroku: &Simulator, salt: &str, uuid: &str) -> String {
    let response = heroku.sso_post(&sso_form(uuid, salt)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie_pair(set_cookie(&response, Session::COOKIE).expect("a session cookie"))
}
