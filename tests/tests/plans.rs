//! Plans in the declaration: a plan the add-on does not declare is refused with a 422 that lists
//! the declared plans, as text and as data, before the vendor's method is called.

use addon_tests::*;
use reqwest::StatusCode;
use serde_json::Value;

/// The refusal's status, message and `plans`.
async fn refusal(response: reqwest::Response) -> (StatusCode, String, Vec<String>) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    let plans = body["plans"]
        .as_array()
        .map_or_else(Vec::new, |plans| plans.iter().map(|p| p.as_str().unwrap().to_owned()).collect());
    (status, message, plans)
}

fn declared() -> Vec<String> {
    <TestAddon as addon_runtime::Addon>::SPEC.plans.iter().map(|p| (*p).to_owned()).collect()
}

#[tokio::test]
async fn an_unknown_plan_is_refused_before_provisioning_reaches_the_vendor() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    let (status, message, plans) = refusal(server.provision(&v3_body(&uuid, "platinum")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("no `platinum` plan") && message.contains("`basic`, `pro`"), "{message}");
    assert_eq!(plans, declared());
    assert_eq!(TestAddon::calls(&server.addon.provisions), 0, "the vendor was never called");

    // Nothing was kept: the same uuid provisions on a declared plan afterwards.
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
    // The legacy body and a 202 provision are judged the same way.
    let (status, _, plans) =
        refusal(server.provision(&legacy_body_for(&new_uuid(), "later-gold")).await).await;
    assert_eq!((status, plans), (StatusCode::UNPROCESSABLE_ENTITY, declared()));
    assert_eq!(TestAddon::calls(&server.addon.provisions), 1);
}

#[tokio::test]
async fn an_unknown_plan_is_refused_before_a_plan_change_reaches_the_vendor() {
    let server = TestServer::start().await;
    let uuid = new_uuid();
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);

    let (status, message, plans) = refusal(server.plan_change(&uuid, "platinum").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("no `platinum` plan"), "{message}");
    assert_eq!(plans, declared());
    // Also for a resource nobody knows: the plan is judged first, so nothing about the registry
    // is revealed to a request that could never succeed.
    let (status, _, plans) = refusal(server.plan_change(&new_uuid(), "platinum").await).await;
    assert_eq!((status, plans), (StatusCode::UNPROCESSABLE_ENTITY, declared()));
    assert_eq!(TestAddon::calls(&server.addon.plan_changes), 0, "the vendor was never called");

    // The resource is still on its plan and its lease is free: a declared plan goes through,
    // both answered at once and in the background (`later-plan` is answered 202).
    assert_eq!(server.plan_change(&uuid, "pro").await.status(), StatusCode::OK);
    assert_eq!(server.plan_change(&uuid, "later-plan").await.status(), StatusCode::ACCEPTED);
    assert_eq!(TestAddon::calls(&server.addon.plan_changes), 2);
    let (status, _, _) = refusal(server.plan_change(&uuid, "later-gold").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(TestAddon::calls(&server.addon.plan_changes), 2);
}

#[tokio::test]
async fn a_malformed_plan_is_a_422_without_the_list() {
    let server = TestServer::start().await;
    let (status, message, plans) = refusal(server.provision(&v3_body(&new_uuid(), "")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("plan"), "{message}");
    assert!(plans.is_empty(), "a request that is not valid is not an unknown plan");
    assert_eq!(TestAddon::calls(&server.addon.provisions), 0);
}

fn legacy_body_for(uuid: &str, plan: &str) -> Value {
    addon_runtime::testing::legacy_body(uuid, plan)
}
