//! One way to serve: the add-on inside an app the vendor already had (its own routes and
//! fallback), served by `Runtime::serve` in a real process configured by the environment. Every
//! route answers, every request is logged once, SIGTERM lets the requests in flight finish, and
//! production listens on every interface unless `HOST` says otherwise.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use addon_runtime::testing::Captured;
use addon_runtime::{Addon, App, Settings};
use addon_tests::*;
use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use axum::Router;
use reqwest::StatusCode;

const SESSION_KEY: &str = "test-session-key-0123456789abcdefghij";

/// A port nobody listens on right now, for a process that reads `PORT`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The mounted-app server, killed when dropped, and its registry, removed after it.
struct Mounted {
    process: Process,
    _database: TestDatabase,
}

/// The mounted-app server with the test secrets, a fresh SQLite registry and `envs`; the
/// server, the address it printed it listens on, and its captured log.
fn start(envs: &[(&str, &str)]) -> (Mounted, String, Captured) {
    let database = TestDatabase::sqlite();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mounted-addon-server"));
    command
        .env_clear()
        .env("ADDON_PASSWORD", PASSWORD)
        .env("ADDON_SSO_SALT", SALT)
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "info")
        .envs(envs.iter().copied());
    let (process, line, log) = Process::start_captured(&mut command, "listening on", Duration::from_secs(20));
    let listening = line.split("listening on http://").nth(1).expect("the address after the marker");
    let address = listening.split_whitespace().next().expect("an address").to_owned();
    (Mounted { process, _database: database }, address, log)
}

/// The log lines that record an answer to `method path`.
fn answered(log: &Captured, method: &str, path: &str) -> usize {
    log.matching(&format!("method={method} path={path}}}"))
        .iter()
        .filter(|line| line.contains("answered"))
        .count()
}

#[tokio::test]
async fn an_addon_inside_an_existing_app_answers_every_route_and_logs_each_request_once() {
    let port = free_port().to_string();
    let (_process, address, log) = start(&[("PORT", &port)]);
    let url = format!("http://{address}");
    let http = client();

    let health = http.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok", "the existing app's own route");

    let unknown = http.get(format!("{url}/no-such-page")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.text().await.unwrap(),
        "the existing app's own 404",
        "the existing app's fallback wins"
    );

    let heroku = heroku_at(url.clone());
    let provisioned = heroku.provision(&v3_body(&new_uuid(), "basic")).await;
    assert_eq!(provisioned.status(), StatusCode::OK, "Heroku's routes answer beside the app's");

    let wrong_method = http.get(format!("{url}{}", heroku.base_path())).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(!json_message(wrong_method).await.is_empty(), "a wrong method on Heroku's route is JSON");

    let requests = [
        ("GET", "/health"),
        ("GET", "/no-such-page"),
        ("POST", heroku.base_path()),
        ("GET", heroku.base_path()),
    ];
    let each_once = eventually(Duration::from_secs(10), async || {
        requests.iter().all(|(method, path)| answered(&log, method, path) == 1)
    })
    .await;
    let lines = log.matching("answered");
    assert!(
        each_once,
        "one log line per request, for every route; the log's answer lines:\n{}",
        lines.join("\n")
    );
    assert_eq!(lines.len(), requests.len(), "no other request was logged:\n{}", lines.join("\n"));
}

#[tokio::test]
async fn sigterm_answers_the_requests_in_flight_and_exits_zero() {
    let port = free_port().to_string();
    let (mut process, address, log) = start(&[("PORT", &port)]);
    let url = format!("http://{address}");
    const IN_FLIGHT: usize = 3;
    let requests: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let response = client().get(format!("{url}/slow")).send().await?;
                Ok::<_, reqwest::Error>((response.status(), response.text().await?))
            })
        })
        .collect();
    let all_started =
        eventually(Duration::from_secs(10), async || log.matching("slow request started").len() == IN_FLIGHT)
            .await;
    assert!(all_started, "the slow requests reached the handler: {:?}", log.lines());

    process.process.terminate();
    for request in requests {
        let (status, body) = request.await.unwrap().expect("a request in flight at SIGTERM is answered");
        assert_eq!((status, body.as_str()), (StatusCode::OK, "slow answer"));
    }
    let status = process.process.wait(Duration::from_secs(30)).expect("the server exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "a graceful stop exits 0: {status:?}; log: {:?}", log.lines());

    let lines = log.lines();
    let position = |text: &str| lines.iter().position(|line| line.contains(text));
    let stopping = position("shutting down").expect("the server says it is shutting down");
    let finished: Vec<_> =
        lines.iter().enumerate().filter(|(_, line)| line.contains("slow request finished")).collect();
    assert_eq!(finished.len(), IN_FLIGHT);
    assert!(
        finished.iter().all(|(index, _)| *index > stopping),
        "every slow request finished after the shutdown began: {lines:#?}"
    );
    assert_eq!(answered(&log, "GET", "/slow"), IN_FLIGHT, "each is logged once: {lines:#?}");
    assert!(position("stopped").is_some_and(|index| index > stopping), "{lines:#?}");
}

#[tokio::test]
async fn production_listens_on_every_interface_unless_host_says_otherwise() {
    let production = [("ADDON_ENV", "production"), ("ADDON_SESSION_KEY", SESSION_KEY)];

    let port = free_port().to_string();
    let (_process, address, _log) = start(&[production[0], production[1], ("PORT", &port)]);
    assert_eq!(address, format!("0.0.0.0:{port}"), "production binds every interface by default");
    let health = client().get(format!("http://127.0.0.1:{port}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "reachable on loopback too");

    let port = free_port().to_string();
    let (_process, address, _log) =
        start(&[production[0], production[1], ("PORT", &port), ("HOST", "127.0.0.1")]);
    assert_eq!(address, format!("127.0.0.1:{port}"), "HOST is honoured in production");
    let health = client().get(format!("http://{address}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[test]
fn settings_name_the_address_they_listen_on() {
    let default_port = TestAddon::SPEC.port;
    let read = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = [("ADDON_PASSWORD", PASSWORD), ("ADDON_SSO_SALT", SALT)]
            .iter()
            .chain(vars)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars::<TestAddon>(|name| {
            vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .expect("valid settings")
        .address::<TestAddon>()
    };
    assert_eq!(read(&[]), ("127.0.0.1".to_owned(), default_port), "development: loopback only");
    let production = [("ADDON_ENV", "production"), ("ADDON_SESSION_KEY", SESSION_KEY)];
    assert_eq!(read(&production), ("0.0.0.0".to_owned(), default_port), "production: every interface");
    assert_eq!(
        read(&[production[0], production[1], ("HOST", "::1"), ("PORT", "6001")]),
        ("::1".to_owned(), 6001),
        "HOST and PORT win"
    );
    let bound = std::net::TcpListener::bind(read(&[("PORT", "0")])).expect("the address binds as it is");
    assert!(bound.local_addr().unwrap().ip().is_loopback());
}

/// `App::into_router` merged by hand into a router that has its own fallback: no panic, and
/// every route answers.
#[tokio::test]
async fn into_router_merges_into_a_router_that_has_a_fallback() {
    let database = TestDatabase::sqlite();
    let app = App::new(
        Arc::new(TestAddon::default()),
        Settings::development(PASSWORD, SALT),
        database.store().await,
    )
    .expect("valid settings");
    let existing = Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { (AxumStatus::NOT_FOUND, "the existing app's own 404") });
    let router = existing.merge(app.into_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let health = client().get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let unknown = client().get(format!("{url}/elsewhere")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.text().await.unwrap(), "the existing app's own 404");
    let provisioned = heroku_at(url).provision(&v3_body(&new_uuid(), "basic")).await;
    assert_eq!(provisioned.status(), StatusCode::OK);
}
