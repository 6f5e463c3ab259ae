//! The datastore example, run as its own process against a fake of Heroku's side: from the 202
//! to provisioned, and then the key-value API answers at the URL it published.

use std::process::Command;
use std::time::Duration;

// Through the runtime's `testing` feature, as a vendor who depends on the runtime alone would.
use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{client, FakeHeroku, Process, Simulator, TestDatabase};
use addon_runtime::Manifest;

const CLIENT_SECRET: &str = "datastore-oauth-client-secret";

fn manifest() -> Manifest {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/addon-manifest.json");
    Manifest::from_json(&std::fs::read_to_string(path).expect("cargo build wrote the manifest")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_202_to_provisioned_and_the_published_url_serves_the_tenant() {
    let heroku = FakeHeroku::start(CLIENT_SECRET).await;
    let registry = TestDatabase::sqlite();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acme-datastore"));
    command
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATABASE_URL", registry.url())
        .env("HEROKU_API_URL", heroku.url())
        .env("HEROKU_OAUTH_URL", heroku.url())
        .env("HEROKU_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
        .env("ADDON_JOB_POLL_MS", "50");
    let _example = Process::start(&mut command, "listening on", Duration::from_secs(20));

    let addon = Simulator::from_manifest(&manifest()).unwrap().at(format!("http://127.0.0.1:{port}"));
    let client = client();
    let uuid = "5b0d3a2e-7f61-4c1e-9a8b-2c3d4e5f6a7b";
    let body = json!({
        "uuid": uuid, "plan": "small", "region": "amazon-web-services::us-east-1",
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"), "name": "acme-datastore-tidy-12345",
        "oauth_grant": {"code": heroku.grant(uuid), "expires_at": "2026-11-27T18:01:31-0800", "type": "authorization_code"},
        "options": {}
    });
    let response = addon.provision(&body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let accepted: Value = response.json().await.unwrap();
    assert!(accepted.get("config").is_none());

    assert!(
        heroku.wait_for_state(uuid, "provisioned", Duration::from_secs(20)).await,
        "{:?}",
        heroku.calls()
    );
    let url = heroku.config(uuid)["ACME_DATASTORE_URL"].clone().expect("the URL was set");
    let parsed = reqwest::Url::parse(&url).unwrap();
    assert!(url.ends_with(&format!("/kv/{uuid}")), "{url}");
    let (user, secret) = (parsed.username().to_owned(), parsed.password().unwrap().to_owned());
    let mut base = parsed.clone();
    base.set_username("").unwrap();
    base.set_password(None).unwrap();

    let key = format!("{base}/greeting");
    let put = client.put(&key).basic_auth(&user, Some(&secret)).body("hello, heroku").send().await.unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let got = client.get(&key).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.text().await.unwrap(), "hello, heroku");
    let wrong = client.get(&key).basic_auth(&user, Some("not-the-secret")).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let other_tenant = format!("http://127.0.0.1:{port}/kv/00000000-0000-4000-8000-000000000000/greeting");
    let stranger = client.get(&other_tenant).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let deleted = client.delete(&key).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = client.get(&key).basic_auth(&user, Some(&secret)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
