//! Two Pingly processes started at the same moment on one fresh PostgreSQL database: both come
//! up (each migration applied once, under the vendor migrations' lock) and both serve Heroku.

use std::process::{Command, Stdio};
use std::time::Duration;

use addon_runtime::testing::reqwest::StatusCode;
use addon_runtime::testing::{new_uuid, v3_body, Process, Simulator, TestDatabase};
use sqlx::Row;

const PASSWORD: &str = "a-test-password-for-two-processes";
const SALT: &str = "a-test-sso-salt-for-two-processes";

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `pingly` binary on `database`, ready once it says it listens; its URL.
fn start(database_url: &str) -> (Process, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pingly"));
    command
        .env("ADDON_PASSWORD", PASSWORD)
        .env("ADDON_SSO_SALT", SALT)
        .env("DATABASE_URL", database_url)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn,addon_runtime=info")
        .stderr(Stdio::inherit());
    let (process, _) = Process::start(&mut command, "listening on", Duration::from_secs(30));
    (process, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn two_processes_starting_together_on_postgres_both_come_up_and_migrate_once() {
    let database = TestDatabase::postgres().await;
    let url = database.url().to_owned();
    let (first, second) = (url.clone(), url.clone());
    let starting = [std::thread::spawn(move || start(&first)), std::thread::spawn(move || start(&second))];
    let servers: Vec<(Process, String)> =
        starting.into_iter().map(|t| t.join().expect("both come up")).collect();

    for (_, url) in &servers {
        let heroku = Simulator::new(url.clone(), "pingly", PASSWORD, SALT);
        let response = heroku.provision(&v3_body(&new_uuid(), "hobby")).await;
        assert_eq!(response.status(), StatusCode::OK, "{url} serves Heroku");
    }

    let store = database.store().await;
    let rows = sqlx::query(
        "SELECT name, COUNT(*) AS n FROM addon_vendor_schema WHERE set_name = 'pingly' GROUP BY name",
    )
    .fetch_all(store.vendor_pool())
    .await
    .unwrap();
    assert!(!rows.is_empty(), "Pingly's migrations are recorded");
    for row in rows {
        let (name, count): (String, i64) = (row.get("name"), row.get("n"));
        assert_eq!(count, 1, "migration `{name}` applied once");
    }
}
