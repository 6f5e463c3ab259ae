//! The API an app reaches at `ACME_LOGS_URL`, with `ACME_LOGS_TOKEN`: its own lines, newest
//! first, searchable; nobody else's.

mod support;

use addon_testing::{client, new_uuid};
use reqwest::StatusCode;
use serde_json::Value;
use support::*;

async fn provision_tenant(origin: &str, uuid: &str, drain: &str) -> (String, String) {
    let body = serde_json::json!({"uuid": uuid, "plan": "basic", "log_drain_token": drain, "options": {}});
    let answer: Value = heroku_in_process(origin).provision(&body).await.json().await.unwrap();
    let config = &answer["config"];
    // The in-process service announces its default public origin; it listens on a free port.
    let url = config["ACME_LOGS_URL"].as_str().unwrap().replace("http://127.0.0.1:5000", origin);
    (url, config["ACME_LOGS_TOKEN"].as_str().unwrap().to_owned())
}

async fn drain(client: &reqwest::Client, origin: &str, token: &str, frame_id: &str, lines: &[&str]) {
    let body: String = lines
        .iter()
        .map(|text| {
            let message = format!("<190>1 2026-11-27T10:00:00.000000+00:00 host app web.1 - {text}");
            format!("{} {message}", message.len())
        })
        .collect();
    let response = client
        .post(format!("{origin}/drain"))
        .header("Content-Type", "application/logplex-1")
        .header("Logplex-Drain-Token", token)
        .header("Logplex-Frame-Id", frame_id)
        .header("Logplex-Msg-Count", lines.len().to_string())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_app_reads_its_own_lines_with_its_token() {
    let origin = serve_in_process(sqlite_store().await).await;
    let client = client();
    let (mine, other) = (new_uuid(), new_uuid());
    let (url, token) = provision_tenant(&origin, &mine, "d.mine").await;
    let (other_url, other_token) = provision_tenant(&origin, &other, "d.other").await;
    assert!(url.ends_with(&format!("/api/tenants/{mine}")), "{url}");
    drain(&client, &origin, "d.mine", "f1", &["checkout started", "checkout failed: timeout"]).await;
    drain(&client, &origin, "d.other", "f1", &["someone else's line"]).await;

    let answer: Value = client.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> =
        answer["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts.iter().all(|t| t.starts_with("checkout")), "{texts:?}");
    assert_eq!(answer["lines"][0]["source"], "app web.1");

    let found: Value =
        client.get(format!("{url}?q=FAILED")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["lines"].as_array().unwrap().len(), 1, "search ignores case");

    for (target, credential) in [(&url, "wrong"), (&url, other_token.as_str()), (&other_url, token.as_str())]
    {
        let refused = client.get(target).bearer_auth(credential).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // A removed tenant's token opens nothing.
    let gone = heroku_in_process(&origin).deprovision(&mine).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(client.get(&url).bearer_auth(&token).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}
