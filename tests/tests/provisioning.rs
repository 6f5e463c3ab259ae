//! Provision, plan change and deprovision over real HTTP, as Heroku calls them.

use addon_runtime::Settings;
use addon_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn every_verb_needs_the_manifest_credentials() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);

    let verbs = [
        (Method::POST, "/heroku/resources".to_owned()),
        (Method::PUT, format!("/heroku/resources/{uuid}")),
        (Method::DELETE, format!("/heroku/resources/{uuid}")),
        // An unknown resource with bad credentials is 401, not 404: nothing leaks before auth.
        (Method::PUT, "/heroku/resources/unknown".to_owned()),
        (Method::DELETE, "/heroku/resources/unknown".to_owned()),
    ];
    let credentials = [None, Some((ID, "wrong-password")), Some(("other-addon", PASSWORD)), Some((ID, ""))];
    for (method, path) in &verbs {
        for credential in credentials {
            let mut request = server
                .client
                .request(method.clone(), format!("{}{path}", server.url))
                .header("Content-Type", "application/json")
                .body(json!({"uuid": new_uuid(), "plan": "pro"}).to_string());
            if let Some((user, password)) = credential {
                request = request.basic_auth(user, Some(password));
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path} with {credential:?}");
            let challenge = response.headers().get("www-authenticate").unwrap().to_str().unwrap();
            assert!(challenge.starts_with("Basic"), "{challenge}");
            assert!(json_message(response).await.contains("Authentication failed"));
        }
    }
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
    assert_eq!(TestAddon::calls(&server.addon.plan_changes), 0);
    assert_eq!(TestAddon::calls(&server.addon.deprovisions), 0);
}

#[tokio::test]
async fn a_drain_token_names_one_live_resource() {
    let server = TestServer::start().await;
    let (first, second) = (new_uuid(), new_uuid());
    let token = format!("d.{first}");
    assert_eq!(server.provision(&v3_body(&first, "basic")).await.status(), StatusCode::OK);
    let mut body = v3_body(&second, "basic");
    body["log_drain_token"] = token.clone().into();
    let response = server.provision(&body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_message(response).await.contains("log_drain_token"));
    assert_eq!(server.store.resource_by_drain_token(&token).await.unwrap().unwrap().uuid, first);

    // Nothing was kept of the refused one: it provisions with its own token, and once the first
    // is gone its token may be given again.
    assert_eq!(server.provision(&v3_body(&second, "basic")).await.status(), StatusCode::OK);
    assert_eq!(server.deprovision(&first).await.status(), StatusCode::NO_CONTENT);
    let third = new_uuid();
    let mut body = v3_body(&third, "basic");
    body["log_drain_token"] = token.into();
    assert_eq!(server.provision(&body).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_v3_provision_gets_the_id_declared_string_config_and_the_drain() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let response = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], uuid.as_str(), "the id defaults to Heroku's uuid");
    let config = body["config"].as_object().unwrap();
    let mut names: Vec<&str> = config.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["TEST_ADDON_TOKEN", "TEST_ADDON_URL"]);
    assert!(config.values().all(Value::is_string));
    assert_eq!(body["message"], "Ready.");
    assert_eq!(body["log_drain_url"], "https://test-addon.example/drain");
}

#[tokio::test]
async fn legacy_bodies_unknown_fields_and_missing_optional_fields_are_accepted() {
    let server = TestServer::start().await;
    let legacy = json!({
        "heroku_id": "app123@heroku.com", "plan": "basic", "callback_url": "https://api.heroku.com/vendor/apps/app123",
        "logplex_token": null, "options": {}, "region": "amazon-web-services::us-east-1", "uuid": new_uuid()
    });
    assert_eq!(server.provision(&legacy).await.status(), StatusCode::OK);

    let mut extra = v3_body(&new_uuid(), "basic");
    extra["a_field_heroku_adds_later"] = json!({"nested": [1, 2, 3]});
    extra["oauth_grant"] = Value::Null;
    extra["name"] = Value::Null;
    assert_eq!(server.provision(&extra).await.status(), StatusCode::OK);

    let minimal = json!({"uuid": new_uuid(), "plan": "basic"});
    assert_eq!(server.provision(&minimal).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_content_types_are_accepted_and_others_get_415() {
    let server = TestServer::start().await;
    for content_type in [
        "application/json",
        "application/vnd.heroku-addons+json; version=3",
        "application/json; charset=utf-8",
    ] {
        let response = server
            .heroku(Method::POST, "")
            .header("Content-Type", content_type)
            .body(v3_body(&new_uuid(), "basic").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
    }
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
        let response = server
            .heroku(Method::POST, "")
            .header("Content-Type", content_type)
            .body(v3_body(&new_uuid(), "basic").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(json_message(response).await.contains("application/json"));
    }
    assert_eq!(TestAddon::calls(&server.addon.provisions), 3);
}

#[tokio::test]
async fn malformed_bodies_get_a_4xx_with_a_json_message() {
    let server = TestServer::start().await;
    let cases: [(&str, StatusCode, &str); 7] = [
        ("{\"uuid\": ", StatusCode::BAD_REQUEST, "not valid"),
        ("not json at all", StatusCode::BAD_REQUEST, "not valid"),
        ("{\"plan\": \"basic\"}", StatusCode::UNPROCESSABLE_ENTITY, "uuid"),
        ("{\"uuid\": 42, \"plan\": \"basic\"}", StatusCode::UNPROCESSABLE_ENTITY, "not valid"),
        ("{\"uuid\": \"../../etc\", \"plan\": \"basic\"}", StatusCode::UNPROCESSABLE_ENTITY, "uuid"),
        ("[1, 2]", StatusCode::UNPROCESSABLE_ENTITY, "not valid"),
        ("", StatusCode::UNPROCESSABLE_ENTITY, "empty"),
    ];
    for (body, status, hint) in cases {
        let response = server.heroku(Method::POST, "").body(body).send().await.unwrap();
        assert_eq!(response.status(), status, "{body:?}");
        let message = json_message(response).await;
        assert!(message.contains(hint), "{body:?} -> {message}");
    }
    assert_eq!(TestAddon::calls(&server.addon.provisions), 0);
}

/// A refusal sent while the client is still sending must still reach it: the server reads the
/// rest of the body before it answers, or the client would often see a reset connection instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_refused_bodies_get_their_answer_not_a_reset() {
    let server = TestServer::start().await;
    let mut body = v3_body(&new_uuid(), "basic");
    body["padding"] = json!("x".repeat(4 * 1024 * 1024));
    let body = body.to_string();
    for round in 0..10 {
        let too_large = server
            .heroku(Method::POST, "")
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: no answer to a body over the limit: {e:?}"));
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(json_message(too_large).await.contains("larger"));
        let unauthenticated = server
            .client
            .post(format!("{}/heroku/resources", server.url))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: no answer without credentials: {e:?}"));
        assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED, "401 comes before the size");
    }
    assert_eq!(TestAddon::calls(&server.addon.provisions), 0);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let server = TestServer::start().await;
    let mut body = v3_body(&new_uuid(), "basic");
    body["padding"] = json!("x".repeat(1024 * 1024));
    let response = server.provision(&body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(json_message(response).await.contains("larger"));

    let small = TestServer::start_with(Settings::development(PASSWORD, SALT).with_body_limit(512)).await;
    let mut body = v3_body(&new_uuid(), "basic");
    body["padding"] = json!("x".repeat(600));
    assert_eq!(small.provision(&body).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(small.provision(&v3_body(&new_uuid(), "basic")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn vendor_errors_become_their_status_with_the_message_for_the_user() {
    let server = TestServer::start().await;
    let response = server.provision(&v3_body(&new_uuid(), "fail")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_message(response).await, "That plan is sold out in this region.");

    let response = server.provision(&v3_body(&new_uuid(), "teapot")).await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(json_message(response).await, "I am a teapot.");

    // `?` on any error: a 500 that does not reveal the vendor's internals.
    let response = server.provision(&v3_body(&new_uuid(), "io")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let message = json_message(response).await;
    assert!(!message.contains("secret-volume"), "{message}");
}

#[tokio::test]
async fn a_failed_provision_records_nothing_so_the_retry_can_succeed() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let response = server.provision(&v3_body(&uuid, "fail")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = server.provision(&v3_body(&uuid, "basic")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 2);
}

#[tokio::test]
async fn a_panicking_handler_gets_a_json_500_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let response = server.provision(&v3_body(&uuid, "panic")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(json_message(response).await.contains("failed"));
    // Nothing was recorded and the resource lock was released: the retry goes through.
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    assert_eq!(server.plan_change(&uuid, "panic").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let response = server.plan_change(&uuid, "pro").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_handler_slower_than_the_timeout_gets_a_json_503() {
    let settings =
        Settings::development(PASSWORD, SALT).with_handler_timeout(std::time::Duration::from_millis(100));
    let server = TestServer::start_with(settings).await;
    let uuid = new_uuid();
    let response = server.provision(&v3_body(&uuid, "slow")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(json_message(response).await.contains("too long"));
}

#[tokio::test]
async fn answers_that_break_the_protocol_never_reach_heroku() {
    let server = TestServer::start().await;
    for plan in ["undeclared", "bad-url", "no-drain"] {
        let uuid = new_uuid();
        let response = server.provision(&v3_body(&uuid, plan)).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{plan}");
        assert!(json_message(response).await.contains("invalid answer"), "{plan}");
        // Not recorded: a later, fixed answer for the same uuid is possible.
        assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK, "{plan}");
    }
}

#[tokio::test]
async fn a_replayed_provision_gets_the_same_body_without_calling_the_vendor() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let first = server.provision(&v3_body(&uuid, "basic")).await.bytes().await.unwrap();
    // A replay may differ in anything but the uuid: it is the same resource.
    let second = server.provision(&v3_body(&uuid, "pro")).await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.bytes().await.unwrap(), first);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
}

#[tokio::test]
async fn concurrent_duplicates_call_the_vendor_once() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let uuid = new_uuid();
    let requests = (0..20).map(|_| {
        let (server, uuid) = (server.clone(), uuid.clone());
        tokio::spawn(async move {
            let response = server.provision(&v3_body(&uuid, "concurrent")).await;
            (response.status(), response.bytes().await.unwrap())
        })
    });
    let answers: Vec<_> = futures_join(requests).await;
    assert!(answers.iter().all(|(status, body)| *status == StatusCode::OK && *body == answers[0].1));
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn plan_change_answers_with_config_and_message_and_same_plan_is_a_no_op() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;

    let response = server.plan_change(&uuid, "pro").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"config": {"TEST_ADDON_TOKEN": "token-pro"}, "message": "Moved from basic to pro."})
    );

    let response = server.plan_change(&uuid, "pro").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("already on the pro plan"));
    assert!(body.get("config").is_none());
    assert_eq!(
        TestAddon::calls(&server.addon.plan_changes),
        1,
        "the same plan again does not reach the vendor"
    );

    let response = server.plan_change(&uuid, "fail").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The failed change left the plan as it was.
    assert_eq!(server.plan_change(&uuid, "pro").await.json::<Value>().await.unwrap()["config"], Value::Null);
}

#[tokio::test]
async fn plan_change_bodies_are_checked() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;
    let path = format!("/{uuid}");
    let response = server
        .heroku(Method::PUT, &path)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_message(response).await.contains("plan"));
    let response = server.heroku(Method::PUT, &path).body("{plan").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server
        .heroku(Method::PUT, &path)
        .header("Content-Type", "text/csv")
        .body("plan")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn deprovision_is_204_then_410_and_unknown_ids_are_404() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "basic")).await;

    let response = server.deprovision(&uuid).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());

    for response in [
        server.deprovision(&uuid).await,
        server.plan_change(&uuid, "pro").await,
        server.provision(&v3_body(&uuid, "basic")).await,
    ] {
        assert_eq!(response.status(), StatusCode::GONE);
        assert!(json_message(response).await.contains("deprovisioned"));
    }
    assert_eq!(TestAddon::calls(&server.addon.deprovisions), 1);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);

    for response in [server.deprovision(&new_uuid()).await, server.plan_change(&new_uuid(), "pro").await] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        json_message(response).await;
    }
}

#[tokio::test]
async fn a_failed_deprovision_leaves_the_resource_in_place() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    server.provision(&v3_body(&uuid, "sticky")).await;
    let response = server.deprovision(&uuid).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_message(response).await, "Export your data before removing the add-on.");
    assert_eq!(server.plan_change(&uuid, "basic").await.status(), StatusCode::OK, "still there");
    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(TestAddon::calls(&server.addon.deprovisions), 2);
}

#[tokio::test]
async fn a_vendor_chosen_id_addresses_the_resource_afterwards() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let body: Value = server.provision(&v3_body(&uuid, "custom-id")).await.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(id, format!("acct-{uuid}"));
    assert_eq!(server.plan_change(&id, "pro").await.status(), StatusCode::OK);
    assert_eq!(server.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.deprovision(&id).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let server = TestServer::start().await;
    let response = server.client.get(format!("{}/nowhere", server.url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    json_message(response).await;
    let response = server.heroku(Method::PATCH, "").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    json_message(response).await;
}

#[tokio::test]
async fn request_ids_are_echoed() {
    let server = TestServer::start().await;
    let response = server
        .heroku(Method::POST, "")
        .header("X-Request-Id", "abc-123")
        .body(v3_body(&new_uuid(), "basic").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
}
