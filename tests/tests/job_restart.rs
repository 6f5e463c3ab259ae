//! A server killed (`kill -9`) between its 202 and the provision action: the job is in the
//! registry, so the next server to start on it finishes the provision.

use std::time::Duration;

use addon_runtime::testing::FakeHeroku;
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
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-databases");
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}/restart-{}.db", dir.display(), new_uuid());
    let uuid = new_uuid();

    let mut first = start(&database, &heroku);
    let mut body = v3_body(&uuid, "later-slow");
    body["oauth_grant"] = json!({"code": heroku.grant(&uuid), "type": "authorization_code"});
    let response = heroku_at(first.url.clone()).provision(&body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The job has started (the grant is exchanged) and its vendor method is still running.
    for _ in 0..200 {
        if heroku.count("POST", "/oauth/token") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(heroku.count("POST", "/oauth/token"), 1);
    // Past the moment the tokens are stored, well inside the vendor's 800 ms method.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(heroku.count("POST", "/actions/provision"), 0, "the killed server never finished");

    let _second = start(&database, &heroku);
    assert!(
        heroku.wait_for_state(&uuid, "provisioned", Duration::from_secs(20)).await,
        "the restarted server finished the job: {:?}",
        heroku.calls()
    );
    assert_eq!(heroku.count("POST", &format!("/addons/{uuid}/actions/provision")), 1);
    assert_eq!(heroku.config(&uuid)["TEST_ADDON_TOKEN"].as_deref(), Some("async-token-2"), "second attempt");
}
