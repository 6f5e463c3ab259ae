//! A server killed (`kill -9`) between its 202 and the provision action: the job is in the
//! registry, so the next server to start on it finishes the provision.

use std::time::Duration;

use addon_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const CLIENT_SECRET: &str = "oauth-client-secret-for-tests";

fn start(database: &str, heroku: &FakeHeroku) -> ServerProcess {
    ServerProcess::start(
        env!("CARGO_BIN_EXE_test-addon-server"),
        &[
            ("DATABASE_URL", database),
            ("HEROKU_URL", heroku.url()),
            ("HEROKU_OAUTH_CLIENT_SECRET", CLIENT_SECRET),
            // A short job timeout keeps the dead server's job lease (timeout + margin) brief.
            ("JOB_TIMEOUT_MS", "1000"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_after_its_202_has_the_job_finished_after_restart() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let registry = TestDatabase::sqlite();
    let database = registry.url();
    let uuid = new_uuid();

    let mut first = start(database, &heroku);
    let mut body = v3_body(&uuid, "later-slow");
    body["oauth_grant"] = json!({"code": heroku.grant(&uuid), "type": "authorization_code"});
    let response = heroku_at(first.url.clone()).provision(&body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // Kill it once the job has exchanged the grant and stored the tokens, while its vendor
    // method (800 ms) still runs.
    let registry = registry.store().await;
    let stored = async || {
        sqlx::query("SELECT uuid FROM addon_tokens WHERE uuid = $1 AND access_token IS NOT NULL")
            .bind(&uuid)
            .fetch_optional(registry.pool())
            .await
            .unwrap()
            .is_some()
    };
    assert!(eventually(Duration::from_secs(5), stored).await, "the tokens were stored: {:?}", heroku.calls());
    assert_eq!(heroku.count("POST", "/oauth/token"), 1);
    // `kill` waits for the process to be gone; the second attempt's token below shows the first
    // never finished.
    first.kill();
    assert_eq!(heroku.count("POST", "/actions/provision"), 0, "the killed server never finished");

    let _second = start(database, &heroku);
    assert!(
        heroku.wait_for_state(&uuid, "provisioned", Duration::from_secs(20)).await,
        "the restarted server finished the job: {:?}",
        heroku.calls()
    );
    assert_eq!(heroku.count("POST", &format!("/addons/{uuid}/actions/provision")), 1);
    assert_eq!(heroku.config(&uuid)["TEST_ADDON_TOKEN"].as_deref(), Some("async-token-2"), "second attempt");
}
