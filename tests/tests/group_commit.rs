//! Provisions committed together (group commit) keep every guarantee of one commit each: a
//! process killed between its claim and its answer leaves a claim the other process takes over
//! only once the lease ran out; duplicates of one uuid across two processes, in the middle of a
//! batch of other provisions, reach the vendor once; every provision answered 200 is recorded.
//! On SQLite (where the registry's writer batches) and on PostgreSQL. On SQLite, the writer's
//! commits are checkpointed beside it, not inside a commit.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use addon_runtime::{ResourceState, Store};
use addon_tests::*;
use reqwest::StatusCode;
use sqlx::Row;

/// A test server process on the shared registry.
fn instance(database: &TestDatabase, handler_timeout_ms: u64) -> ServerProcess {
    let timeout = handler_timeout_ms.to_string();
    ServerProcess::start(
        env!("CARGO_BIN_EXE_test-addon-server"),
        &[("DATABASE_URL", database.url()), ("HANDLER_TIMEOUT_MS", timeout.as_str())],
    )
}

async fn vendor_provisions(server: &ServerProcess) -> u64 {
    let stats: serde_json::Value =
        client().get(format!("{}/stats", server.url)).send().await.unwrap().json().await.unwrap();
    stats["provisions"].as_u64().unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn lease_until(registry: &Store, uuid: &str) -> i64 {
    sqlx::query("SELECT lease_until FROM addon_resources WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(registry.pool())
        .await
        .unwrap()
        .try_get::<Option<i64>, _>("lease_until")
        .unwrap()
        .expect("a claim holds a lease")
}

/// Provisions `plan` for every uuid at once on `heroku`; each answer's status and body.
async fn provision_all(heroku: &Arc<Simulator>, uuids: &[String], plan: &str) -> Vec<(StatusCode, String)> {
    let handles: Vec<_> = uuids
        .iter()
        .map(|uuid| {
            let (heroku, body) = (heroku.clone(), v3_body(uuid, plan));
            tokio::spawn(async move {
                let response = heroku.provision(&body).await;
                (response.status(), response.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    answers
}

async fn assert_recorded(registry: &Store, uuids: &[String]) {
    for uuid in uuids {
        let record = registry.resource(uuid).await.unwrap();
        assert_eq!(record.map(|r| r.state), Some(ResourceState::Provisioned), "{uuid} is recorded");
    }
}

async fn crash_between_claim_and_answer(database: TestDatabase) {
    // A short handler timeout keeps the dead process's lease (timeout + 2 s) brief.
    let (mut a, b) = (instance(&database, 1_000), instance(&database, 1_000));
    let ha = Arc::new(heroku_at(a.url.clone()));
    let uuid = new_uuid();
    // The doomed provision's claim goes in with a batch of others.
    let others: Vec<String> = (0..20).map(|_| new_uuid()).collect();
    let doomed = {
        let (heroku, body) = (ha.clone(), v3_body(&uuid, "slow"));
        tokio::spawn(async move {
            heroku
                .heroku(reqwest::Method::POST, "")
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
        })
    };
    let batch = {
        let (heroku, others) = (ha.clone(), others.clone());
        tokio::spawn(async move { provision_all(&heroku, &others, "basic").await })
    };
    let registry = database.store().await;
    assert!(
        eventually(Duration::from_secs(5), async || registry.resource(&uuid).await.unwrap().is_some()).await
    );
    // Every provision answered before the crash is recorded: answers come after their commit.
    let answered = batch.await.unwrap();
    a.kill(); // SIGKILL while the vendor's 300 ms method runs: no cleanup
    assert!(doomed.await.unwrap().is_err(), "the killed process never answered");
    let left = registry.resource(&uuid).await.unwrap().expect("the dead process's claim is still there");
    assert_eq!(left.state, ResourceState::Provisioning);
    for (uuid, (status, _)) in others.iter().zip(&answered) {
        if *status == StatusCode::OK {
            assert_recorded(&registry, std::slice::from_ref(uuid)).await;
        }
    }

    let lease_until = lease_until(&registry, &uuid).await;
    let response = heroku_at(b.url.clone()).provision(&v3_body(&uuid, "basic")).await;
    let answered_at = now_ms();
    assert_eq!(response.status(), StatusCode::OK, "the claim expired and the survivor provisioned");
    assert!(answered_at >= lease_until, "taken over {} ms before the lease ended", lease_until - answered_at);
    assert_eq!(vendor_provisions(&b).await, 1, "the survivor called the vendor once, after the lease");
    assert_recorded(&registry, &[uuid]).await;
}

async fn duplicates_during_a_batch(database: TestDatabase) {
    let (a, b) = (instance(&database, 20_000), instance(&database, 20_000));
    let (ha, hb) = (Arc::new(heroku_at(a.url.clone())), Arc::new(heroku_at(b.url.clone())));
    let duplicate = new_uuid();
    let distinct: Vec<String> = (0..40).map(|_| new_uuid()).collect();
    // Each process gets half the distinct uuids, interleaved with copies of the duplicate.
    let mut handles = Vec::new();
    for (i, uuid) in distinct.iter().enumerate() {
        for (uuid, plan) in [(uuid, "basic"), (&duplicate, "concurrent")] {
            let heroku = if i % 2 == 0 { ha.clone() } else { hb.clone() };
            let body = v3_body(uuid, plan);
            handles.push(tokio::spawn(async move {
                let response = heroku.provision(&body).await;
                (response.status(), response.text().await.unwrap())
            }));
        }
    }
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
    let replays: Vec<&String> = answers.iter().skip(1).step_by(2).map(|(_, body)| body).collect();
    assert!(replays.iter().all(|body| *body == replays[0]), "every duplicate got the one answer");
    let calls = vendor_provisions(&a).await + vendor_provisions(&b).await;
    assert_eq!(calls, distinct.len() as u64 + 1, "each uuid reached the vendor once");
    let registry = database.store().await;
    assert_recorded(&registry, &distinct).await;
    assert_recorded(&registry, &[duplicate]).await;
}

async fn fifty_concurrent_provisions(database: TestDatabase) {
    let server = TestServer::start_on(settings(), &database).await;
    let heroku = Arc::new(server.heroku.clone());
    let uuids: Vec<String> = (0..50).map(|_| new_uuid()).collect();
    let answers = provision_all(&heroku, &uuids, "basic").await;
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
    assert_eq!(TestAddon::calls(&server.addon.provisions), 50);
    assert_recorded(&database.store().await, &uuids).await;
    // Replays are answered from the record, without the vendor.
    let replays = provision_all(&heroku, &uuids, "basic").await;
    assert_eq!(replays, answers);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_claim_and_answer_is_taken_over_only_after_the_lease() {
    crash_between_claim_and_answer(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_claim_and_answer_is_taken_over_only_after_the_lease_on_postgresql() {
    crash_between_claim_and_answer(TestDatabase::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_processes_during_a_batch_reach_the_vendor_once() {
    duplicates_during_a_batch(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_processes_during_a_batch_reach_the_vendor_once_on_postgresql() {
    duplicates_during_a_batch(TestDatabase::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_provisions_all_answer_and_are_all_recorded() {
    fifty_concurrent_provisions(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_provisions_all_answer_and_are_all_recorded_on_postgresql() {
    fifty_concurrent_provisions(TestDatabase::postgres().await).await;
}

/// SQLite's own checkpoint runs inside a commit once the WAL holds 4,000 pages; fifty provisions
/// write far fewer, so the database file grows only if the writer's checkpoints copy them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writers_commits_are_checkpointed_in_the_background_on_sqlite() {
    let database = TestDatabase::sqlite();
    let file = database.url().strip_prefix("sqlite://").expect("a SQLite URL").to_owned();
    let size = |path: &str| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let server = TestServer::start_on(settings(), &database).await;
    let before = size(&file);
    let uuids: Vec<String> = (0..50).map(|_| new_uuid()).collect();
    let answers = provision_all(&Arc::new(server.heroku.clone()), &uuids, "basic").await;
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
    let wal = size(&format!("{file}-wal"));
    assert!(wal < 4_000 * 4_096, "the WAL ({wal} bytes) reached SQLite's own checkpoint");
    let deadline = Instant::now() + Duration::from_secs(5);
    while size(&file) <= before {
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {before} bytes: nothing was checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_recorded(&database.store().await, &uuids).await;
}
