//! Sessions on the vendor's pages, over real HTTP: signing out, sessions that end with their
//! resource, what browsers and programs get without a session, and lifetimes.

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::{Clock, ManualClock, Settings, SignedOut};
use addon_tests::*;
use reqwest::StatusCode;

/// What Chromium sends when it opens a page.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn provisioned(server: &TestServer) -> String {
    let uuid = new_uuid();
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    uuid
}

/// Signs in to `uuid` through SSO; the `Cookie` header value that the browser would send.
async fn sign_in(server: &TestServer, uuid: &str) -> String {
    let response = server.sso_post(&resource_token_form(uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie_pair(set_cookie(&response, Session::COOKIE).expect("a session cookie"))
}

/// Opens the test add-on's page for `uuid`, with a cookie (or none) and an `Accept` header.
async fn open(server: &TestServer, uuid: &str, cookie: Option<&str>, accept: &str) -> reqwest::Response {
    let mut request = server.client.get(format!("{}/resources/{uuid}", server.url)).header("Accept", accept);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn logout(server: &TestServer, cookie: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = server.client.post(format!("{}/sso/logout", server.url));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"].to_str().unwrap().to_owned()
}

fn tamper(cookie: &str) -> String {
    let (name, value) = cookie.split_once('=').unwrap();
    let mut chars: Vec<char> = value.chars().collect();
    chars[8] = if chars[8] == 'A' { 'B' } else { 'A' };
    format!("{name}={}", chars.into_iter().collect::<String>())
}

async fn signing_out_ends_the_session_everywhere(server: TestServer) {
    let uuid = provisioned(&server).await;
    let cookie = sign_in(&server, &uuid).await;
    let spare = sign_in(&server, &uuid).await;
    assert_eq!(open(&server, &uuid, Some(&cookie), "*/*").await.status(), StatusCode::OK);

    let response = logout(&server, Some(&cookie), &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookie(&response, Session::COOKIE).expect("the cookie is cleared");
    assert!(cleared.starts_with("addon_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(response.headers()["cache-control"], "no-store");

    // A copy of the cookie, kept by another machine or a backup, no longer opens anything.
    let copy = open(&server, &uuid, Some(&cookie), "*/*").await;
    assert_eq!(copy.status(), StatusCode::UNAUTHORIZED);
    assert!(json_message(copy).await.contains("signed out"));
    // Only that session ended: another login to the same resource still works.
    assert_eq!(open(&server, &uuid, Some(&spare), "*/*").await.status(), StatusCode::OK);

    // Signing out again, without a session, or with a forged one: the cookie is cleared all the same.
    for cookie in [Some(cookie.clone()), None, Some(tamper(&spare))] {
        let response = logout(&server, cookie.as_deref(), &[]).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(set_cookie(&response, Session::COOKIE).unwrap().contains("Max-Age=0"));
    }
    assert_eq!(
        open(&server, &uuid, Some(&spare), "*/*").await.status(),
        StatusCode::OK,
        "forgery ended nothing"
    );

    let get = server.client.get(format!("{}/sso/logout", server.url)).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED, "a link or an image cannot sign anyone out");
    json_message(get).await;
}

#[tokio::test]
async fn signing_out_ends_the_session_everywhere_on_sqlite() {
    signing_out_ends_the_session_everywhere(TestServer::start().await).await;
}

#[tokio::test]
async fn signing_out_ends_the_session_everywhere_on_postgres() {
    signing_out_ends_the_session_everywhere(TestServer::start_postgres().await).await;
}

#[tokio::test]
async fn another_site_cannot_sign_a_user_out() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let cookie = sign_in(&server, &uuid).await;
    let response = logout(&server, Some(&cookie), &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, Session::COOKIE).is_none());
    json_message(response).await;
    assert_eq!(open(&server, &uuid, Some(&cookie), "*/*").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_deprovisioned_resources_sessions_stop_working() {
    let server = TestServer::start().await;
    let (a, b) = (provisioned(&server).await, provisioned(&server).await);
    let (cookie_a, cookie_b) = (sign_in(&server, &a).await, sign_in(&server, &b).await);
    assert_eq!(open(&server, &a, Some(&cookie_a), "*/*").await.status(), StatusCode::OK);

    assert_eq!(server.deprovision(&a).await.status(), StatusCode::NO_CONTENT);
    let response = open(&server, &a, Some(&cookie_a), "*/*").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(json_message(response).await.contains("removed"));
    let page = open(&server, &a, Some(&cookie_a), BROWSER).await;
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page.text().await.unwrap().contains("This add-on has been removed"));
    // The other resource's session is untouched.
    assert_eq!(open(&server, &b, Some(&cookie_b), "*/*").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_for_a_resource_this_registry_does_not_know_is_refused() {
    // Same secrets, so the cookie's signature holds; another registry, so the resource is unknown.
    let first = TestServer::start().await;
    let uuid = provisioned(&first).await;
    let cookie = sign_in(&first, &uuid).await;
    let second = TestServer::start_on(settings(), &TestDatabase::sqlite()).await;
    let response = open(&second, &uuid, Some(&cookie), "*/*").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(json_message(response).await.contains("removed"));
    assert_eq!(open(&first, &uuid, Some(&cookie), "*/*").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn browsers_get_a_page_and_programs_get_json() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let cookie = sign_in(&server, &uuid).await;

    for (case, cookie) in [("no cookie", None), ("tampered", Some(tamper(&cookie)))] {
        let page = open(&server, &uuid, cookie.as_deref(), BROWSER).await;
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert!(content_type(&page).starts_with("text/html"), "{case}");
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("You are not signed in") && html.contains("Test Add-on"), "{case}: {html}");
        assert!(html.contains("Resources tab in the Heroku dashboard"), "{case}");

        for accept in ["*/*", "application/json", "text/html, application/json"] {
            let response = open(&server, &uuid, cookie.as_deref(), accept).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}, {accept}");
            assert!(json_message(response).await.contains("not signed in"), "{case}, {accept}");
        }
    }

    let response = logout(&server, Some(&cookie), &[("Accept", BROWSER)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/html"));
    assert!(response.text().await.unwrap().contains("You have signed out"));
}

#[tokio::test]
async fn a_vendor_can_send_browsers_to_its_own_page_and_sessions_expire() {
    let settings = Settings::development(PASSWORD, SALT).with_session_ttl(Duration::from_secs(60));
    let clock = ManualClock::default();
    let signed_out = SignedOut::redirect("/signed-out").unwrap();
    let server =
        TestServer::start_clocked(settings, &TestDatabase::sqlite(), signed_out, Arc::new(clock.clone()))
            .await;
    let uuid = provisioned(&server).await;

    let response = open(&server, &uuid, None, BROWSER).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/signed-out?reason=not-signed-in");
    assert_eq!(open(&server, &uuid, None, "application/json").await.status(), StatusCode::UNAUTHORIZED);

    let response = server.sso_post(&resource_token_form(&uuid, SALT, clock.now_secs())).await;
    let set = set_cookie(&response, Session::COOKIE).unwrap().to_owned();
    assert!(set.contains("Max-Age=60"), "the lifetime reaches the browser: {set}");
    let cookie = cookie_pair(&set);
    clock.advance(Duration::from_secs(59));
    assert_eq!(open(&server, &uuid, Some(&cookie), BROWSER).await.status(), StatusCode::OK);

    // The server does not trust the browser to drop it: past its lifetime, the cookie is refused.
    clock.advance(Duration::from_secs(1));
    let response = open(&server, &uuid, Some(&cookie), BROWSER).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/signed-out?reason=expired");
    let response = open(&server, &uuid, Some(&cookie), "*/*").await;
    assert!(json_message(response).await.contains("expired"));

    let response = logout(&server, Some(&cookie), &[("Accept", BROWSER)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/signed-out?reason=signed-out");
    assert!(set_cookie(&response, Session::COOKIE).unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn json_everywhere_when_the_vendor_says_so() {
    let server = TestServer::start_signed_out(Settings::development(PASSWORD, SALT), SignedOut::json()).await;
    let uuid = provisioned(&server).await;
    let response = open(&server, &uuid, None, BROWSER).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    json_message(response).await;
    let cookie = sign_in(&server, &uuid).await;
    assert_eq!(logout(&server, Some(&cookie), &[("Accept", BROWSER)]).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_signed_out_page_must_be_a_path_or_a_url() {
    let error = SignedOut::redirect("signed-out").unwrap_err();
    assert!(error.to_string().contains("must be a path starting with `/`"), "{error}");
}

#[tokio::test]
async fn the_sso_window_is_read_from_the_apps_clock() {
    let settings = Settings::development(PASSWORD, SALT).with_sso_window(Duration::from_secs(300));
    let clock = ManualClock::default();
    let server = TestServer::start_clocked(
        settings,
        &TestDatabase::sqlite(),
        SignedOut::json(),
        Arc::new(clock.clone()),
    )
    .await;
    let uuid = provisioned(&server).await;
    let stamped = clock.now_secs();
    clock.advance(Duration::from_secs(300));
    let response = server.sso_post(&resource_token_form(&uuid, SALT, stamped)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "at the edge of the window");
    clock.advance(Duration::from_secs(2));
    let response = server.sso_post(&resource_token_form(&uuid, SALT, stamped)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "past the window by the app's clock");
}
