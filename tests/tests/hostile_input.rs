//! Whatever arrives, the answer is JSON (or an empty redirect/204) and never a 5xx, and the
//! server keeps serving. Inputs are generated from a fixed seed, so a failure replays.

use addon_tests::*;
use reqwest::{Method, StatusCode};

/// A small deterministic generator (xorshift), enough to vary inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() % max as u64) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[tokio::test]
async fn hostile_requests_get_json_4xx_and_the_server_survives() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;
    let mut rng = Rng(0x5eed_1234_abcd_9876);

    let paths = [
        "/heroku/resources".to_owned(),
        format!("/heroku/resources/{uuid}"),
        "/heroku/resources/..%2F..%2Fetc".to_owned(),
        "/heroku/resources/%00".to_owned(),
        format!("/heroku/resources/{}", "x".repeat(300)),
        "/sso/login".to_owned(),
        "/heroku/resources/a/b".to_owned(),
        "/".to_owned(),
    ];
    let methods = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS];
    let content_types = [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "application/json; charset=latin1",
    ];
    let json_bodies = [
        r#"{"uuid": null, "plan": "basic"}"#.to_owned(),
        r#"{"uuid": "u", "plan": ""}"#.to_owned(),
        r#"{"uuid": "u", "plan": "basic", "options": "not an object"}"#.to_owned(),
        r#"{"uuid": "u", "plan": "basic", "oauth_grant": 5}"#.to_owned(),
        format!(r#"{{"uuid": "{}", "plan": "basic"}}"#, "\u{202e}evil"),
        "{\"plan\": \"basic\", \"uuid\": \"dup\", \"uuid\": \"dup2\"}".to_owned(),
        "[".repeat(10_000),
        "null".to_owned(),
        "resource_id=x&timestamp=abc&resource_token=zz&timestamp=1".to_owned(),
    ];

    for round in 0..160 {
        let method = rng.pick(&methods).clone();
        let path = rng.pick(&paths).clone();
        let content_type = *rng.pick(&content_types);
        let body = if round % 3 == 0 { rng.bytes(2048) } else { rng.pick(&json_bodies).clone().into_bytes() };
        let authorised = round % 4 != 0;
        let mut request = server.client.request(method.clone(), format!("{}{path}", server.url)).body(body);
        if !content_type.is_empty() {
            request = request.header("Content-Type", content_type);
        }
        if authorised {
            request = request.basic_auth(ID, Some(PASSWORD));
        } else if round % 8 == 0 {
            request = request.header("Authorization", "Basic \u{00ff}\u{00fe}==");
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        assert!(!status.is_server_error(), "round {round}: {method} {path} answered {status}");
        if status == StatusCode::NO_CONTENT
            || status.is_redirection()
            || status == StatusCode::OK && method == Method::GET
        {
            continue;
        }
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        if status.is_client_error() {
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "round {round}: {method} {path} -> {status}"
            );
            let body: serde_json::Value = response.json().await.expect("JSON");
            assert!(body["message"].is_string(), "round {round}");
        }
    }
    // Still serving. (Some rounds were well-formed, authenticated DELETEs: the resource may be gone.)
    assert_eq!(server.provision(&v3_body(&new_uuid(), "basic")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_router_merges_into_a_larger_axum_app() {
    use std::sync::Arc;
    let database = TestDatabase::sqlite();
    let app = addon_runtime::App::new(
        Arc::new(TestAddon::default()),
        addon_runtime::Settings::development(PASSWORD, SALT),
        database.store().await,
    )
    .unwrap();
    let health = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let router = health.merge(app.into_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = client();
    assert_eq!(client.get(format!("{url}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    let response = client
        .post(format!("{url}/heroku/resources"))
        .basic_auth(ID, Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(v3_body(&new_uuid(), "basic").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
