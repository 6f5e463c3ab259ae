//! What the example's tests share: the built binary started as its own process, the same
//! service in-process on any database, and Heroku's side of the conversation.

// Each test binary uses some of these helpers, none uses all.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::Duration;

use addon_runtime::{Settings, Store};
use addon_testing::{cookie_pair, new_uuid, now, sha1_hex, sha256_hex, urlencode, Process, Simulator};
use serde_json::Value;

/// The example's process, killed when the test ends, however it ends.
pub struct Example {
    _process: Process,
    pub origin: String,
}

/// A registry file of this test's own, under the workspace's `target/`.
pub fn fresh_database() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-databases");
    std::fs::create_dir_all(dir).unwrap();
    format!("sqlite://{dir}/acme-logs-{}.db", new_uuid())
}

/// Starts the binary with no configuration but a free port and its registry, and waits for its
/// "listening" line.
pub fn start_example(database_url: &str) -> Example {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acme-logs"));
    command
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::inherit());
    let (process, _) = Process::start(&mut command, "listening on", Duration::from_secs(20));
    Example { _process: process, origin: format!("http://127.0.0.1:{port}") }
}

pub fn manifest() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/addon-manifest.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("cargo build wrote the manifest")).unwrap()
}

/// Heroku as the manifest the build wrote describes it, calling the example at `origin`.
pub fn heroku_at(origin: &str) -> Simulator {
    let manifest = addon_runtime::Manifest::from_json(&manifest().to_string()).expect("a manifest");
    Simulator::from_manifest(&manifest).expect("the manifest has test URLs").at(origin)
}

/// The manifest's test URL, moved to the port this run listens on.
pub fn at(example: &Example, test_url: &Value) -> String {
    let url = test_url.as_str().unwrap();
    let path = url.strip_prefix("http://127.0.0.1:5000").expect("test URLs point at the default port");
    format!("{}{path}", example.origin)
}

/// The secrets of the in-process service (the binary reads the manifest's).
pub const PASSWORD: &str = "acme-test-password-0123456789abc";
pub const SALT: &str = "acme-test-sso-salt-0123456789abcd";

/// The example served in this process on `store`, exactly as `main` assembles it; its origin.
pub async fn serve_in_process(store: Store) -> String {
    let app = acme_logs::app(Settings::development(PASSWORD, SALT), store).await.expect("the app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app.serve_on(listener));
    origin
}

/// A SQLite registry of this test's own.
pub async fn sqlite_store() -> Store {
    Store::open(&fresh_database()).await.expect("a SQLite registry")
}

/// The PostgreSQL database `scripts/test.sh` started. Tests that need it fail, rather than skip,
/// without it.
pub async fn postgres_store() -> Store {
    let url = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests with `bash scripts/test.sh`, which starts PostgreSQL",
    );
    Store::open(&url).await.expect("a PostgreSQL registry at TEST_DATABASE_URL")
}

/// Heroku calling the in-process service at `origin`, with its secrets.
pub fn heroku_in_process(origin: &str) -> Simulator {
    Simulator::new(origin, "acme-logs", PASSWORD, SALT)
}

/// Provisions `uuid` on `plan` with a drain token, as Heroku would; panics unless it succeeds.
pub async fn provision(heroku: &Simulator, uuid: &str, plan: &str, token: &str) {
    let body = serde_json::json!({
        "uuid": uuid, "plan": plan, "region": "amazon-web-services::us-east-1",
        "name": format!("acme-logs-{}", &uuid[..8]), "log_drain_token": token,
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"), "options": {}
    });
    let response = heroku.provision(&body).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK, "provisioning {uuid}");
}

/// The fields of the SSO form Heroku's dashboard posts for `uuid`: both v3 tokens, the
/// user-scoped one vouching for the user.
pub fn sso_fields(uuid: &str, salt: &str, email: &str) -> Vec<(&'static str, String)> {
    let mut fields = resource_token_fields(uuid, salt, email);
    let ts = &fields[2].1;
    let user_scoped = sha256_hex(&format!("{uuid}:{salt}:{ts}:{USER_ID}:{email}"));
    fields.push(("user_scoped_resource_token", user_scoped));
    fields
}

/// The same form with the sha1 `resource_token` alone: the email is then only what it says.
pub fn resource_token_fields(uuid: &str, salt: &str, email: &str) -> Vec<(&'static str, String)> {
    let ts = now().to_string();
    vec![
        ("resource_id", uuid.to_owned()),
        ("resource_token", sha1_hex(&format!("{uuid}:{salt}:{ts}"))),
        ("timestamp", ts),
        ("email", email.to_owned()),
        ("user_id", USER_ID.to_owned()),
        ("app", "shop-production".to_owned()),
    ]
}

const USER_ID: &str = "4f2c9a1e-user";

/// Signs in through SSO; the `Cookie` header value a browser would then send.
pub async fn sign_in(client: &reqwest::Client, origin: &str, salt: &str, uuid: &str) -> String {
    let response = client
        .post(format!("{origin}/sso/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(urlencode(&sso_fields(uuid, salt, "dev@shop.example")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    cookie_pair(response.headers()["set-cookie"].to_str().unwrap())
}
