//! Every refusal is JSON: unknown paths and methods, ids that are not UTF-8, bad queries, forms
//! and JSON bodies, on the runtime's routes and on vendor routes that use
//! `addon_runtime::extract`.

use std::sync::Arc;

use addon_runtime::extract::{Form, Json, Path, Query};
use addon_runtime::App;
use addon_tests::*;
use axum::routing::{get, post};
use axum::Router;
use reqwest::StatusCode;

#[derive(serde::Deserialize, serde::Serialize)]
struct Search {
    q: String,
    limit: u32,
}

fn vendor_routes() -> Router {
    async fn search(Path(uuid): Path<String>, Query(search): Query<Search>) -> Json<serde_json::Value> {
        Json(serde_json::json!({ "uuid": uuid, "q": search.q, "limit": search.limit }))
    }
    async fn by_form(Form(search): Form<Search>) -> Json<Search> {
        Json(search)
    }
    async fn by_json(Json(search): Json<Search>) -> Json<Search> {
        Json(search)
    }
    async fn numbered(Path(n): Path<u32>) -> String {
        n.to_string()
    }
    Router::new()
        .route("/api/{uuid}/search", get(search))
        .route("/api/form", post(by_form))
        .route("/api/json", post(by_json))
        .route("/api/numbered/{n}", get(numbered))
}

async fn start() -> TestApp {
    TestApp::build(async |store| {
        Ok::<_, addon_runtime::Error>(
            App::new(Arc::new(TestAddon::default()), settings(), store)?.with_routes(vendor_routes()),
        )
    })
    .await
}

async fn expect_json(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "{:?}", response.url().path());
    json_message(response).await
}

#[tokio::test]
async fn the_runtime_s_routes_refuse_in_json() {
    let server = start().await;
    let url = &server.url;
    let c = client();
    let message =
        expect_json(c.get(format!("{url}/no/such/page")).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    assert!(message.contains("nothing at this address"), "{message}");
    let message = expect_json(
        c.delete(format!("{url}/sso/login")).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert!(message.contains("method"), "{message}");
    // An id that is not UTF-8, on the legacy SSO link (no auth) and on deprovision (with auth).
    let message = expect_json(
        c.get(format!("{url}/heroku/resources/%ff")).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(message.starts_with("The address is not valid"), "{message}");
    let deprovision = c.delete(format!("{url}/heroku/resources/%ff%fe")).basic_auth(ID, Some(PASSWORD));
    expect_json(deprovision.send().await.unwrap(), StatusCode::BAD_REQUEST).await;
    // A query string that does not parse, on the legacy SSO link.
    let bad_query = format!("{url}/heroku/resources/abc?timestamp=%ff&token=%zz&timestamp=x");
    let response = c.get(bad_query).send().await.unwrap();
    assert!(response.status().is_client_error());
    json_message(response).await;
    // A form that is not a form, and one that does not parse, on the SSO form post.
    let not_a_form =
        c.post(format!("{url}/sso/login")).header("Content-Type", "text/plain").body("resource_id=x").send();
    expect_json(not_a_form.await.unwrap(), StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let bad_form = c
        .post(format!("{url}/sso/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("timestamp=not-a-number&resource_id=x")
        .send();
    let response = bad_form.await.unwrap();
    assert!(response.status().is_client_error());
    json_message(response).await;
    // Bad JSON on provision.
    let bad_json = c
        .post(format!("{url}/heroku/resources"))
        .basic_auth(ID, Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body("{\"uuid\": ");
    expect_json(bad_json.send().await.unwrap(), StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn vendor_routes_using_the_runtime_s_extractors_refuse_in_json() {
    let server = start().await;
    let url = &server.url;
    let c = client();
    let ok = c.get(format!("{url}/api/abc/search?q=x&limit=3")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            c.get(format!("{url}/api/%ff/search?q=x&limit=3")),
            StatusCode::BAD_REQUEST,
            "The address is not valid",
        ),
        (c.get(format!("{url}/api/numbered/minus-one")), StatusCode::BAD_REQUEST, "The address is not valid"),
        (c.get(format!("{url}/api/abc/search?q=x&limit=many")), StatusCode::BAD_REQUEST, "The query string"),
        (c.get(format!("{url}/api/abc/search?limit=3")), StatusCode::BAD_REQUEST, "The query string"),
        (
            c.post(format!("{url}/api/form")).header("Content-Type", "application/json").body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The form is not valid",
        ),
        (
            c.post(format!("{url}/api/form"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("q=x&limit=%ff"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The form is not valid",
        ),
        (
            c.post(format!("{url}/api/json")).header("Content-Type", "application/json").body("{\"q\": "),
            StatusCode::BAD_REQUEST,
            "The JSON body is not valid",
        ),
        (
            c.post(format!("{url}/api/json"))
                .header("Content-Type", "application/json")
                .body("{\"q\": \"x\"}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The JSON body is not valid",
        ),
        (
            c.post(format!("{url}/api/json")).header("Content-Type", "text/plain").body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The JSON body is not valid",
        ),
        (c.delete(format!("{url}/api/json")), StatusCode::METHOD_NOT_ALLOWED, "method"),
        (c.get(format!("{url}/api/nope")), StatusCode::NOT_FOUND, "nothing at this address"),
    ];
    let count = cases.len();
    for (request, status, start) in cases {
        let message = expect_json(request.send().await.unwrap(), status).await;
        assert!(message.contains(start), "{message}");
    }
    println!("{count} malformed vendor requests, each refused in JSON");
    let ok = c.post(format!("{url}/api/json")).json(&serde_json::json!({"q": "x", "limit": 1})).send().await;
    assert_eq!(ok.unwrap().status(), StatusCode::OK, "the server still answers");
}
