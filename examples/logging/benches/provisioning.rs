//! Provisions per second through HTTP, beside what the same database does without HTTP.
//!
//! For SQLite and for PostgreSQL (`TEST_DATABASE_URL`), in one run on one machine:
//! - **raw inserts**: single-row inserts straight into the database, as many writers at once
//!   as the load below has clients: the ceiling;
//! - **hand-written axum**: the least a vendor could write by hand: Basic auth, parse, one
//!   `INSERT ... ON CONFLICT DO NOTHING`, a JSON answer; no replayed answers, no leases;
//! - **acme-logs**: the example on this framework: the full protocol (claim, vendor call,
//!   recorded answer).
//!
//! Run with `bash scripts/with-postgres.sh cargo bench -p acme-logs --bench provisioning`.
//! `BENCH_SECONDS` (default 5) sets each measurement's length, `BENCH_CLIENTS` (default 16)
//! the number of concurrent clients.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use addon_runtime::{Settings, Store};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

const PASSWORD: &str = "bench-password-0123456789abcdefgh";
const SALT: &str = "bench-sso-salt-0123456789abcdefgh";

fn seconds() -> Duration {
    Duration::from_secs(std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5))
}

fn clients() -> usize {
    std::env::var("BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}

/// Runs `clients` workers for `duration`, each doing `work(n)` with its own counter; returns
/// completed operations per second. Any failure aborts the benchmark: a rate of errors is no rate.
async fn measure<F, Fut>(duration: Duration, clients: usize, work: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (work, next) = (work.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while started.elapsed() < duration {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    work(n).await.unwrap_or_else(|e| panic!("operation {n} failed: {e}"));
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("a worker finished");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn uuid(run: &str, n: u64) -> String {
    format!("{run}-{n:012}-4000-8000-000000000000")
}

/// Single-row inserts with no HTTP around them.
async fn raw_inserts(url: &str) -> f64 {
    let pool = pool(url).await;
    sqlx::query("DROP TABLE IF EXISTS bench_raw").execute(&pool).await.unwrap();
    sqlx::query("CREATE TABLE bench_raw (uuid TEXT PRIMARY KEY, plan TEXT NOT NULL, config TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    measure(seconds(), clients(), move |n| {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO bench_raw (uuid, plan, config, created_at) VALUES ($1, $2, $3, $4)")
                .bind(uuid("raw", n))
                .bind("basic")
                .bind(r#"{"ACME_LOGS_URL":"https://logs.acme.example/api/tenants/x"}"#)
                .bind(n as i64)
                .execute(&pool)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    })
    .await
}

async fn pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(if sqlite { 4 } else { 10 })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("the benchmark database")
}

/// What a vendor might write by hand: auth, parse, insert, answer.
async fn hand_written_baseline(url: &str) -> f64 {
    let pool = pool(url).await;
    sqlx::query("DROP TABLE IF EXISTS bench_baseline").execute(&pool).await.unwrap();
    sqlx::query("CREATE TABLE bench_baseline (uuid TEXT PRIMARY KEY, plan TEXT NOT NULL, config TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    async fn provision(State(pool): State<AnyPool>, headers: HeaderMap, body: Bytes) -> Response {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("acme-logs:{PASSWORD}"))
        );
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        let (Some(uuid), Some(plan)) = (request["uuid"].as_str(), request["plan"].as_str()) else {
            return StatusCode::UNPROCESSABLE_ENTITY.into_response();
        };
        let config = serde_json::json!({"ACME_LOGS_URL": format!("https://logs.acme.example/api/tenants/{uuid}"), "ACME_LOGS_TOKEN": "t"});
        let inserted = sqlx::query("INSERT INTO bench_baseline (uuid, plan, config, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(uuid)
            .bind(plan)
            .bind(config.to_string())
            .bind(0i64)
            .execute(&pool)
            .await;
        match inserted {
            Ok(_) => axum::Json(serde_json::json!({"id": uuid, "config": config})).into_response(),
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    let router = Router::new().route("/heroku/resources", post(provision)).with_state(pool);
    let base = serve(router).await;
    load(base, "baseline").await
}

/// The example, on this framework.
async fn framework(url: &str) -> f64 {
    let store = Store::open(url).await.expect("the registry");
    let settings = Settings::development(PASSWORD, SALT);
    let app = acme_logs::app(settings, store).await.expect("the app");
    let base = serve(app.into_router()).await;
    load(base, "framework").await
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Provisions with unique uuids, as Heroku would send them, as fast as the server answers.
async fn load(base: String, run: &'static str) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let url = format!("{base}/heroku/resources");
    measure(seconds(), clients(), move |n| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = serde_json::json!({
                "uuid": uuid(run, n), "plan": "basic", "region": "amazon-web-services::us-east-1",
                "callback_url": "https://api.heroku.com/addons/x", "log_drain_token": format!("d.{n}"),
                "options": {}, "name": "bench"
            });
            let response = client
                .post(&url)
                .basic_auth("acme-logs", Some(PASSWORD))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if response.status() != StatusCode::OK {
                return Err(format!("status {}", response.status()));
            }
            response.bytes().await.map(drop).map_err(|e| e.to_string())
        }
    })
    .await
}

fn sqlite_url(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-databases");
    std::fs::create_dir_all(dir).unwrap();
    let path = format!("{dir}/{name}.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    format!("sqlite://{path}?mode=rwc")
}

#[tokio::main]
async fn main() {
    let postgres = std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL is not set: run `bash scripts/with-postgres.sh cargo bench -p acme-logs --bench provisioning`");
    println!(
        "{} s per measurement, {} concurrent clients, {} cores",
        seconds().as_secs(),
        clients(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| database | raw inserts/s | hand-written axum provisions/s | acme-logs provisions/s | acme-logs / raw | acme-logs / hand-written |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, raw_url, baseline_url, framework_url) in [
        ("SQLite (WAL, file)", sqlite_url("raw"), sqlite_url("baseline"), sqlite_url("framework")),
        ("PostgreSQL", postgres.clone(), postgres.clone(), postgres.clone()),
    ] {
        if name == "PostgreSQL" {
            let pool = pool(&postgres).await;
            sqlx::query("DROP TABLE IF EXISTS addon_resources, addon_schema").execute(&pool).await.unwrap();
        }
        let raw = raw_inserts(&raw_url).await;
        let baseline = hand_written_baseline(&baseline_url).await;
        let ours = framework(&framework_url).await;
        println!(
            "| {name} | {raw:.0} | {baseline:.0} | {ours:.0} | {:.2} | {:.2} |",
            ours / raw,
            ours / baseline
        );
    }
}
