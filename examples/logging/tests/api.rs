//! The API an app reaches at `ACME_LOGS_URL`, with `ACME_LOGS_TOKEN`: its own lines, newest
//! first, searchable; nobody else's.

mod support;

use addon_runtime::testing::reqwest::StatusCode;
use addon_runtime::testing::serde_json::Value;
use addon_runtime::testing::{client, TestDatabase};
use support::*;

#[tokio::test]
async fn an_app_reads_its_own_lines_with_its_token() {
    let app = serve_in_process(&TestDatabase::sqlite()).await;
    let client = client();
    let (mine, other) = (tenant(&app, "basic").await, tenant(&app, "basic").await);
    assert!(mine.url.ends_with(&format!("/api/tenants/{}", mine.uuid)), "{}", mine.url);
    let at = "2026-11-27T10:00:00.000000+00:00";
    let frame =
        [app_line(at, "web.1", "checkout started"), app_line(at, "web.1", "checkout failed: timeout")];
    let posted = post_frame(&client, &app.url, &mine.drain_token, Some("f1"), Some(2), frame.concat()).await;
    assert_eq!(posted.status(), StatusCode::NO_CONTENT);
    let theirs = app_line(at, "web.1", "someone else's line");
    let posted = post_frame(&client, &app.url, &other.drain_token, Some("f1"), Some(1), theirs).await;
    assert_eq!(posted.status(), StatusCode::NO_CONTENT);

    let answer: Value =
        client.get(&mine.url).bearer_auth(&mine.token).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> =
        answer["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts.iter().all(|t| t.starts_with("checkout")), "{texts:?}");
    assert_eq!(answer["lines"][0]["source"], "app web.1");

    let search = format!("{}?q=FAILED", mine.url);
    let found: Value =
        client.get(&search).bearer_auth(&mine.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["lines"].as_array().unwrap().len(), 1, "search ignores case");

    // The token works as Basic auth's password too, as `ApiKey` reads it.
    let basic = client.get(&mine.url).basic_auth("app", Some(&mine.token)).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::OK);

    for (target, credential) in [(&mine.url, "wrong"), (&mine.url, &other.token), (&other.url, &mine.token)] {
        let refused = client.get(target).bearer_auth(credential).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        assert!(message(refused).await.contains("ACME_LOGS_TOKEN"));
    }
    let unsent = client.get(&mine.url).send().await.unwrap();
    assert_eq!(unsent.status(), StatusCode::UNAUTHORIZED);
    assert!(message(unsent).await.contains("Authorization: Bearer <ACME_LOGS_TOKEN>"));

    // A removed tenant's token opens nothing.
    assert_eq!(app.deprovision(&mine.uuid).await.status(), StatusCode::NO_CONTENT);
    let gone = client.get(&mine.url).bearer_auth(&mine.token).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_database_holds_no_plain_copy_of_a_live_tenants_token() {
    let database = TestDatabase::sqlite();
    let app = serve_in_process(&database).await;
    let tenant = tenant(&app, "basic").await;
    let opened = client().get(&tenant.url).bearer_auth(&tenant.token).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK, "the token is found");
    // The registry, its write-ahead log and the log book's tables: all in this directory.
    let file = database.url().strip_prefix("sqlite://").unwrap().to_owned();
    let directory = std::path::Path::new(&file).parent().unwrap();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let held = bytes.windows(tenant.token.len()).any(|window| window == tenant.token.as_bytes());
        assert!(!held, "{} holds the token in the clear", path.display());
    }
}
