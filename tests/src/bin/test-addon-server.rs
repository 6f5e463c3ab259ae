//! The test add-on as its own process, for tests that need several instances or a crash:
//! `DATABASE_URL=... test-addon-server`. Prints `listening on http://ADDR` once it serves, and
//! answers `GET /stats` with what reached the vendor. `HEROKU_URL` points the Platform API and
//! OAuth at a fake; `HANDLER_TIMEOUT_MS` and `JOB_TIMEOUT_MS` shorten leases for crash tests.
//! `TEST_ADDON_LOG=1` writes the runtime's log to standard output, as `addon_runtime::serve` does.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use addon_runtime::{App, Settings, Store};
use addon_tests::{TestAddon, PASSWORD, SALT};
use axum::routing::get;
use axum::{Json, Router};

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the shared registry");
    let timeout_ms: u64 =
        std::env::var("HANDLER_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let store = Store::open(&url).await.expect("the registry opens");
    let job_timeout_ms: u64 =
        std::env::var("JOB_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(600_000);
    let mut settings = Settings::development(PASSWORD, SALT)
        .with_handler_timeout(Duration::from_millis(timeout_ms))
        .with_job_timeout(Duration::from_millis(job_timeout_ms))
        .with_job_poll(Duration::from_millis(20));
    // A fake of Heroku's side, when the test runs one.
    if let Ok(heroku) = std::env::var("HEROKU_URL") {
        settings = settings.with_heroku_urls(&heroku, &heroku).with_oauth_client_secret(
            std::env::var("HEROKU_OAUTH_CLIENT_SECRET").expect("the client secret the fake accepts"),
        );
    }
    let addon = Arc::new(TestAddon::default());
    let stats = {
        let addon = addon.clone();
        Router::new().route(
            "/stats",
            get(move || async move {
                Json(serde_json::json!({
                    "provisions": addon.provisions.load(Ordering::SeqCst),
                    "plan_changes": addon.plan_changes.load(Ordering::SeqCst),
                    "deprovisions": addon.deprovisions.load(Ordering::SeqCst),
                    "spans": addon.spans.lock().unwrap().iter().map(|(a, b)| [a.to_string(), b.to_string()]).collect::<Vec<_>>(),
                }))
            }),
        )
    };
    let app = App::new(addon, settings, store).expect("valid settings").with_routes(stats);
    if std::env::var_os("TEST_ADDON_LOG").is_some() {
        addon_runtime::init_logging();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    app.serve_on(listener).await.expect("serves");
}
