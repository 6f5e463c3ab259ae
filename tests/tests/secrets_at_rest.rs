//! The registry keeps a resource's config and the answer replayed to Heroku sealed: the raw
//! SQLite file (with its write-ahead log) and a PostgreSQL dump never hold a config value, while
//! a repeated provision still gets the answer byte for byte. Deprovisioning scrubs them.

use std::path::{Path, PathBuf};

use addon_tests::*;
use reqwest::StatusCode;

/// A registry in a fresh SQLite file whose path the test keeps, to read its bytes.
fn sqlite_file() -> (PathBuf, TestDatabase) {
    let database = TestDatabase::sqlite();
    let path = PathBuf::from(database.url().strip_prefix("sqlite://").expect("a SQLite URL"));
    (path, database)
}

/// The config values the test add-on gives `uuid`: its URL names the uuid, so it is unique to
/// this resource, and its token.
fn secrets_of(uuid: &str) -> [String; 2] {
    [format!("test-addon.example/r/{uuid}"), r#""TEST_ADDON_TOKEN":"token-1""#.to_owned()]
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// Every byte SQLite keeps for the database: the file and its write-ahead log.
fn sqlite_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes
}

fn pg_dump(url: &str) -> Vec<u8> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's binaries under /usr/lib/postgresql")
        .filter_map(|entry| Some(entry.ok()?.path().join("bin/pg_dump")))
        .filter(|path| path.exists())
        .max()
        .expect("a pg_dump binary");
    let output = std::process::Command::new(bin).args(["--data-only", "--dbname", url]).output().unwrap();
    assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// Provisions, checks the replay and the raw bytes while live, deprovisions, checks again.
async fn sealed_while_live_and_scrubbed_after(server: &TestServer, raw: impl Fn() -> Vec<u8>) {
    let uuid = new_uuid();
    let first = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    let [url, token] = secrets_of(&uuid);
    assert!(contains(&first, &url) && contains(&first, &token), "the answer Heroku gets holds the config");

    let again = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.bytes().await.unwrap(), first, "a replay is the recorded answer, byte for byte");
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.config_var("TEST_ADDON_URL"), Some(format!("https://{url}").as_str()));

    let bytes = raw();
    assert!(contains(&bytes, &uuid), "the raw bytes read are the registry's");
    for secret in [&url, &token] {
        assert!(!contains(&bytes, secret), "`{secret}` is in the registry in plain text while live");
    }

    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::GONE);
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert!(record.config.is_empty(), "the config is scrubbed at deprovision");
    let bytes = raw();
    for secret in [&url, &token] {
        assert!(!contains(&bytes, secret), "`{secret}` is in the registry after deprovision");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_and_wal_never_hold_the_config() {
    let (path, database) = sqlite_file();
    let server = TestServer::start_on(settings(), &database).await;
    sealed_while_live_and_scrubbed_after(&server, || sqlite_bytes(&path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_never_holds_the_config() {
    let database = TestDatabase::postgres().await;
    let server = TestServer::start_on(settings(), &database).await;
    sealed_while_live_and_scrubbed_after(&server, || pg_dump(database.url())).await;
}

/// A row written before sealing (plain JSON, as earlier versions stored it) still replays and
/// reads; the next write seals it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_rows_from_before_still_read_and_are_sealed_when_rewritten() {
    let (path, database) = sqlite_file();
    let server = TestServer::start_on(settings(), &database).await;
    let uuid = new_uuid();
    let answer = format!(
        r#"{{"id":"{uuid}","config":{{"TEST_ADDON_URL":"https://legacy.example/{uuid}","TEST_ADDON_TOKEN":"legacy-token-{uuid}"}}}}"#
    );
    let config = format!(
        r#"{{"TEST_ADDON_TOKEN":"legacy-token-{uuid}","TEST_ADDON_URL":"https://legacy.example/{uuid}"}}"#
    );
    sqlx::query(
        "INSERT INTO addon_resources (uuid, id, plan, state, response, response_status, config, created_at, updated_at) \
         VALUES ($1, $1, 'basic', 'provisioned', $2, 200, $3, 1, 1)",
    )
    .bind(&uuid)
    .bind(&answer)
    .bind(&config)
    .execute(server.store.pool())
    .await
    .unwrap();

    let replay = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.bytes().await.unwrap(), answer.as_bytes(), "a plain recorded answer replays as it was");
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    let token = format!("legacy-token-{uuid}");
    assert_eq!(record.config_var("TEST_ADDON_TOKEN"), Some(token.as_str()));

    assert_eq!(server.plan_change(&uuid, "pro").await.status(), StatusCode::OK);
    let stored: String = sqlx::query_scalar("SELECT config FROM addon_resources WHERE uuid = $1")
        .bind(&uuid)
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("v2."), "the rewritten config is sealed: {stored}");
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.config_var("TEST_ADDON_TOKEN"), Some("token-pro"));
    assert!(!contains(&sqlite_bytes(&path), "token-pro"));
}

/// A sealed value is bound to its resource and field: copied to another row, it does not open
/// (the record reads as having no config; nothing fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_config_copied_to_another_row_does_not_open() {
    let server = TestServer::start().await;
    let (victim, thief) = (new_uuid(), new_uuid());
    for uuid in [&victim, &thief] {
        assert_eq!(server.provision(&v3_body(uuid, "basic")).await.status(), StatusCode::OK);
    }
    sqlx::query(
        "UPDATE addon_resources SET config = (SELECT config FROM addon_resources WHERE uuid = $1), \
         response = (SELECT config FROM addon_resources WHERE uuid = $1) WHERE uuid = $2",
    )
    .bind(&victim)
    .bind(&thief)
    .execute(server.store.pool())
    .await
    .unwrap();
    let record = server.store.resource(&thief).await.unwrap().unwrap();
    assert!(record.config.is_empty(), "another resource's sealed config does not open here");
    let replay = server.provision(&v3_body(&thief, "basic")).await;
    assert_eq!(replay.status(), StatusCode::CONFLICT, "a sealed answer that does not open is refused");
    assert!(json_message(replay).await.contains("cannot be read"));
    let victim_record = server.store.resource(&victim).await.unwrap().unwrap();
    assert_eq!(victim_record.config_var("TEST_ADDON_TOKEN"), Some("token-1"));
}
