//! The test add-on inside an app the vendor already had, served the documented way:
//! `Runtime::from_env`, the add-on built with the registry in hand, then `Runtime::serve` with
//! the existing app's router. Configured by the environment alone, as in production (`ADDON_ENV`,
//! `HOST`, `PORT`, `DATABASE_URL`, the secrets).
//!
//! The existing app has `GET /health`, a fallback of its own (a plain-text 404), and
//! `GET /slow`, which prints `slow request started`, waits for the process's SIGTERM, then
//! answers a moment later (printing `slow request finished`): a request that is certainly in
//! flight when the server is told to stop.

use std::time::Duration;

use addon_runtime::Runtime;
use addon_tests::TestAddon;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::signal::unix::{signal, SignalKind};

/// How long `/slow` keeps working once SIGTERM arrived, so that its answer is written while the
/// server is already shutting down.
const AFTER_SIGTERM: Duration = Duration::from_millis(300);

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    let runtime = Runtime::<TestAddon>::from_env().await?;
    // The registry is open before the add-on exists: a vendor would hand it its pool here.
    let _vendor_pool = runtime.store().vendor_pool().clone();
    let existing = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/slow", get(slow))
        .fallback(|| async { (StatusCode::NOT_FOUND, "the existing app's own 404") });
    runtime.serve(TestAddon::default(), existing).await
}

async fn slow() -> Result<&'static str, StatusCode> {
    let mut terminate = signal(SignalKind::terminate()).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    println!("slow request started");
    terminate.recv().await;
    tokio::time::sleep(AFTER_SIGTERM).await;
    println!("slow request finished");
    Ok("slow answer")
}
