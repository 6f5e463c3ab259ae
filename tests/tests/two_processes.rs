//! Two real server processes on one PostgreSQL registry, as behind a load balancer: duplicates
//! reach the vendor once, operations on one resource never overlap, and a process killed in the
//! middle of a provision leaves work the other one finishes.

use std::time::Duration;

use addon_tests::*;
use reqwest::StatusCode;

/// A test server process on the shared PostgreSQL registry.
fn instance(database: &TestDatabase, handler_timeout_ms: u64) -> ServerProcess {
    let timeout = handler_timeout_ms.to_string();
    ServerProcess::start(
        env!("CARGO_BIN_EXE_test-addon-server"),
        &[("DATABASE_URL", database.url()), ("HANDLER_TIMEOUT_MS", timeout.as_str())],
    )
}

async fn stats(server: &ServerProcess) -> serde_json::Value {
    client().get(format!("{}/stats", server.url)).send().await.unwrap().json().await.unwrap()
}

fn count(stats: &[serde_json::Value], key: &str) -> u64 {
    stats.iter().map(|s| s[key].as_u64().unwrap()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_processes_reach_the_vendor_once_and_never_overlap() {
    let database = TestDatabase::postgres().await;
    let (a, b) = (instance(&database, 20_000), instance(&database, 20_000));
    let (ha, hb) =
        (std::sync::Arc::new(heroku_at(a.url.clone())), std::sync::Arc::new(heroku_at(b.url.clone())));
    let uuid = new_uuid();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let server = if i % 2 == 0 { ha.clone() } else { hb.clone() };
            let uuid = uuid.clone();
            tokio::spawn(async move {
                let response = server.provision(&v3_body(&uuid, "concurrent")).await;
                (response.status(), response.bytes().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    assert!(answers.iter().all(|(status, body)| *status == StatusCode::OK && *body == answers[0].1));

    let plans = ["slow", "pro", "slow", "basic"];
    let handles: Vec<_> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let server = if i % 2 == 0 { ha.clone() } else { hb.clone() };
            let (uuid, plan) = (uuid.clone(), plan.to_string());
            tokio::spawn(async move { server.plan_change(&uuid, &plan).await.status() })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.await.unwrap(), StatusCode::OK);
    }
    let stats = [stats(&a).await, stats(&b).await];
    assert_eq!(count(&stats, "provisions"), 1, "{stats:?}");
    let mut spans: Vec<(u128, u128)> = stats
        .iter()
        .flat_map(|s| s["spans"].as_array().unwrap().clone())
        .map(|pair| (pair[0].as_str().unwrap().parse().unwrap(), pair[1].as_str().unwrap().parse().unwrap()))
        .collect();
    assert!(spans.len() >= 2, "{stats:?}");
    assert!(!overlapping(&mut spans), "plan changes overlapped across processes: {spans:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provision_cut_short_by_a_crash_is_finished_by_the_other_process() {
    // A short handler timeout keeps the dead process's lease (timeout + margin) brief.
    let database = TestDatabase::postgres().await;
    let (mut a, b) = (instance(&database, 1_000), instance(&database, 1_000));
    let uuid = new_uuid();
    let doomed = {
        let heroku = heroku_at(a.url.clone());
        let uuid = uuid.clone();
        tokio::spawn(async move {
            heroku
                .heroku(reqwest::Method::POST, "")
                .header("Content-Type", "application/json")
                .body(v3_body(&uuid, "slow").to_string())
                .send()
                .await
        })
    };
    // Kill it once its claim is in the registry, while the vendor's 300 ms method runs.
    let registry = database.store().await;
    eventually(Duration::from_secs(5), async || registry.resource(&uuid).await.unwrap().is_some()).await;
    a.kill(); // SIGKILL: no cleanup runs
    assert!(doomed.await.unwrap().is_err(), "the killed process never answered");
    let left = registry.resource(&uuid).await.unwrap().expect("the dead process's claim is still there");
    assert_eq!(left.state, addon_runtime::ResourceState::Provisioning);

    let response = heroku_at(b.url.clone()).provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(response.status(), StatusCode::OK, "the claim expired and the survivor provisioned");
    assert_eq!(count(&[stats(&b).await], "provisions"), 1);
}
