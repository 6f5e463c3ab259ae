//! Heroku delivers every call at least once. Each point of the registry's contract, on SQLite
//! and on PostgreSQL: every test below runs once per backend.

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::ResourceState;
use addon_tests::*;
use reqwest::StatusCode;

/// Runs each listed test on a fresh SQLite file and on the PostgreSQL of `TEST_DATABASE_URL`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(addon_tests::TestDatabase::postgres().await).await
                }
            )*
        }
    };
}

on_both_databases!(
    a_replay_gets_the_recorded_answer_without_calling_the_vendor,
    fifty_identical_provisions_at_once_call_the_vendor_once,
    two_instances_on_one_registry_call_the_vendor_once,
    a_duplicate_that_arrives_while_the_first_runs_waits_for_its_answer,
    deprovisioned_resources_answer_410_and_unknown_ones_404,
    the_current_plan_again_does_not_call_the_vendor,
    plan_changes_and_deprovisions_of_one_resource_never_overlap,
    a_failed_or_panicking_provision_records_nothing,
    the_vendor_reads_the_record_by_uuid_and_by_drain_token,
);

async fn start(database: &TestDatabase) -> TestServer {
    TestServer::start_on(settings(), database).await
}

async fn a_replay_gets_the_recorded_answer_without_calling_the_vendor(database: TestDatabase) {
    let server = start(&database).await;
    let uuid = new_uuid();
    let first = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    for _ in 0..3 {
        let again = server.provision(&v3_body(&uuid, "basic")).await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(again.bytes().await.unwrap(), first);
    }
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
}

async fn fifty_identical_provisions_at_once_call_the_vendor_once(database: TestDatabase) {
    let server = Arc::new(start(&database).await);
    let uuid = new_uuid();
    let answers = send_at_once(50, |_| {
        let (server, uuid) = (server.clone(), uuid.clone());
        async move { server.provision(&v3_body(&uuid, "concurrent")).await }
    })
    .await;
    assert_all_the_same(&answers);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
}

/// Two apps with their own pools and in-process locks, sharing one registry: as two processes
/// would (the test with real processes is in `two_processes.rs`).
async fn two_instances_on_one_registry_call_the_vendor_once(database: TestDatabase) {
    let first = Arc::new(start(&database).await);
    let second = Arc::new(start(&database).await);
    let uuid = new_uuid();
    let answers = send_at_once(50, |i| {
        let server = if i % 2 == 0 { first.clone() } else { second.clone() };
        let uuid = uuid.clone();
        async move { server.provision(&v3_body(&uuid, "concurrent")).await }
    })
    .await;
    assert_all_the_same(&answers);
    let calls = TestAddon::calls(&first.addon.provisions) + TestAddon::calls(&second.addon.provisions);
    assert_eq!(calls, 1);
}

async fn a_duplicate_that_arrives_while_the_first_runs_waits_for_its_answer(database: TestDatabase) {
    let first = Arc::new(start(&database).await);
    let second = start(&database).await;
    let uuid = new_uuid();
    let slow = {
        let (first, uuid) = (first.clone(), uuid.clone());
        tokio::spawn(async move { first.provision(&v3_body(&uuid, "slow")).await.bytes().await.unwrap() })
    };
    // Sent once the first one holds the claim (its vendor method takes 300 ms).
    let claimed = async || {
        first.store.resource(&uuid).await.unwrap().is_some_and(|r| r.state == ResourceState::Provisioning)
    };
    assert!(eventually(Duration::from_secs(5), claimed).await, "the first provision claimed the uuid");
    let duplicate = second.provision(&v3_body(&uuid, "slow")).await;
    assert_eq!(duplicate.status(), StatusCode::OK);
    assert_eq!(duplicate.bytes().await.unwrap(), slow.await.unwrap());
    assert_eq!(TestAddon::calls(&first.addon.provisions) + TestAddon::calls(&second.addon.provisions), 1);
}

async fn deprovisioned_resources_answer_410_and_unknown_ones_404(database: TestDatabase) {
    let server = start(&database).await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::GONE);
    assert_eq!(server.plan_change(&uuid, "pro").await.status(), StatusCode::GONE);
    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::GONE);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
    assert_eq!(TestAddon::calls(&server.addon.deprovisions), 1);
    let unknown = new_uuid();
    assert_eq!(server.plan_change(&unknown, "pro").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.deprovision(&unknown).await.status(), StatusCode::NOT_FOUND);
}

async fn the_current_plan_again_does_not_call_the_vendor(database: TestDatabase) {
    let server = start(&database).await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(server.plan_change(&uuid, "basic").await.status(), StatusCode::OK);
    assert_eq!(server.plan_change(&uuid, "pro").await.status(), StatusCode::OK);
    assert_eq!(server.plan_change(&uuid, "pro").await.status(), StatusCode::OK);
    assert_eq!(TestAddon::calls(&server.addon.plan_changes), 1);
    let record = server.store.resource(&uuid).await.unwrap().unwrap();
    assert_eq!(record.plan, "pro");
    assert_eq!(
        record.config_var("TEST_ADDON_TOKEN"),
        Some("token-pro"),
        "the plan change's config is recorded"
    );
}

async fn plan_changes_and_deprovisions_of_one_resource_never_overlap(database: TestDatabase) {
    let first = Arc::new(start(&database).await);
    let second = Arc::new(start(&database).await);
    let uuid = new_uuid();
    first.provision(&v3_body(&uuid, "basic")).await;
    let plans = ["slow", "pro", "slow", "basic", "slow", "pro"];
    let answers = send_at_once(plans.len(), |i| {
        let server = if i % 2 == 0 { first.clone() } else { second.clone() };
        let uuid = uuid.clone();
        async move { server.plan_change(&uuid, plans[i]).await }
    })
    .await;
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
    assert_eq!(first.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    let mut spans: Vec<_> = first.addon.spans.lock().unwrap().clone();
    spans.extend(second.addon.spans.lock().unwrap().iter());
    assert!(spans.len() >= 3, "{spans:?}");
    assert!(!overlapping(&mut spans), "vendor calls overlapped: {spans:?}");
}

async fn a_failed_or_panicking_provision_records_nothing(database: TestDatabase) {
    let server = start(&database).await;
    let cases = [
        ("fail", StatusCode::UNPROCESSABLE_ENTITY),
        ("panic", StatusCode::INTERNAL_SERVER_ERROR),
        ("undeclared", StatusCode::INTERNAL_SERVER_ERROR),
    ];
    for (plan, status) in cases {
        let uuid = new_uuid();
        assert_eq!(server.provision(&v3_body(&uuid, plan)).await.status(), status, "{plan}");
        assert!(server.store.resource(&uuid).await.unwrap().is_none(), "{plan}: nothing recorded");
        assert_eq!(
            server.provision(&v3_body(&uuid, "basic")).await.status(),
            StatusCode::OK,
            "{plan}: retry"
        );
        let record = server.store.resource(&uuid).await.unwrap().unwrap();
        assert_eq!(record.state, ResourceState::Provisioned);
    }
}

async fn the_vendor_reads_the_record_by_uuid_and_by_drain_token(database: TestDatabase) {
    let server = start(&database).await;
    let uuid = new_uuid();
    let mut body = v3_body(&uuid, "basic");
    let drain_token = format!("d.{uuid}");
    body["log_drain_token"] = serde_json::json!(drain_token);
    server.provision(&body).await;
    let record = server.store.resource(&uuid).await.unwrap().expect("recorded");
    assert_eq!(record.plan, "basic");
    assert_eq!(record.region.as_deref(), Some("amazon-web-services::us-east-1"));
    assert_eq!(record.name.as_deref(), Some("acme-inc-primary-logs"));
    assert_eq!(record.options.get("foo").map(String::as_str), Some("bar"));
    assert_eq!(record.callback_url, Some(format!("https://api.heroku.com/addons/{uuid}")));
    assert_eq!(record.config_var("TEST_ADDON_TOKEN"), Some("token-1"));
    let by_token = server.store.resource_by_drain_token(&drain_token).await.unwrap().expect("found by token");
    assert_eq!(by_token.uuid, uuid);
    assert!(!format!("{record:?}").contains("token-1"), "Debug hides config values");
    server.deprovision(&uuid).await;
    assert!(server.store.resource_by_drain_token(&drain_token).await.unwrap().is_none());
}

/// Sends `count` requests at once and collects each status and body.
async fn send_at_once<F, Fut>(count: usize, request: F) -> Vec<(StatusCode, Vec<u8>)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response> + Send + 'static,
{
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let sent = request(i);
            tokio::spawn(async move {
                let response = sent.await;
                (response.status(), response.bytes().await.unwrap().to_vec())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    answers
}

fn assert_all_the_same(answers: &[(StatusCode, Vec<u8>)]) {
    for (status, body) in answers {
        assert_eq!(*status, StatusCode::OK, "{}", String::from_utf8_lossy(body));
        assert_eq!(body, &answers[0].1, "every duplicate gets the same body");
    }
}
