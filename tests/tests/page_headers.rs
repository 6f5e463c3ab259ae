//! Hardening headers on the runtime's pages and on vendor routes behind a session, and the
//! sign-out's checks of where a request comes from.

use addon_runtime::Settings;
use addon_tests::*;
use reqwest::StatusCode;

const HARDENED: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("cache-control", "no-store"),
];

fn assert_hardened(response: &reqwest::Response, what: &str) {
    for (name, value) in HARDENED {
        let got = response.headers().get(name).map(|v| v.to_str().unwrap());
        assert_eq!(got, Some(value), "{name} on {what}");
    }
}

async fn provisioned(server: &TestServer) -> String {
    let uuid = new_uuid();
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    uuid
}

async fn sign_in(server: &TestServer, uuid: &str) -> (reqwest::Response, String) {
    let response = server.sso_post(&resource_token_form(uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_pair(set_cookie(&response, Session::COOKIE).expect("a session cookie"));
    (response, cookie)
}

async fn page(server: &TestServer, uuid: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = server.client.get(format!("{}/resources/{uuid}", server.url));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn logout(server: &TestServer, cookie: &str, headers: &[(&str, String)]) -> reqwest::Response {
    let mut request = server.client.post(format!("{}/sso/logout", server.url)).header("Cookie", cookie);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn runtime_pages_and_session_routes_are_hardened() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let (sso, cookie) = sign_in(&server, &uuid).await;
    assert_hardened(&sso, "the SSO redirect");
    let refused = server.sso_post(&resource_token_form(&uuid, "wrong-salt", now())).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_hardened(&refused, "a refused SSO login");
    assert_hardened(&page(&server, &uuid, Some(&cookie)).await, "a vendor route using Session");
    assert_hardened(&page(&server, &uuid, None).await, "a vendor route refusing without a session");
    let signed_out = logout(&server, &cookie, &[]).await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_hardened(&signed_out, "sign-out");
    // Heroku's API calls are not pages.
    let api = server.provision(&v3_body(&new_uuid(), "basic")).await;
    assert!(api.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn the_frame_policy_is_configurable_for_vendors_framed_on_purpose() {
    let settings = Settings::development(PASSWORD, SALT)
        .with_frame_ancestors("https://dashboard.example.com")
        .expect("a valid source list");
    let server = TestServer::start_with(settings).await;
    let uuid = provisioned(&server).await;
    let (_, cookie) = sign_in(&server, &uuid).await;
    let response = page(&server, &uuid, Some(&cookie)).await;
    assert_eq!(
        response.headers()["content-security-policy"],
        "frame-ancestors https://dashboard.example.com"
    );
    assert!(response.headers().get("x-frame-options").is_none());
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    for bad in
        ["https://a.example; script-src *", "https://a.example,x", "", "https://a.example\nX-Injected: 1"]
    {
        assert!(Settings::development(PASSWORD, SALT).with_frame_ancestors(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn sign_out_from_another_site_is_refused_by_origin_or_referer() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let (_, cookie) = sign_in(&server, &uuid).await;

    // Cross-site, said only by Origin (no Sec-Fetch-Site): refused, the session still works.
    let evil = [("Origin", "https://evil.example".to_owned())];
    let response = logout(&server, &cookie, &evil).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json_message(response).await.contains("Sign out"));
    // Said only by Referer.
    let evil = [("Referer", "https://evil.example/trap.html".to_owned())];
    assert_eq!(logout(&server, &cookie, &evil).await.status(), StatusCode::FORBIDDEN);
    // A sandboxed frame sends `Origin: null`.
    let null = [("Origin", "null".to_owned())];
    assert_eq!(logout(&server, &cookie, &null).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(page(&server, &uuid, Some(&cookie)).await.status(), StatusCode::OK, "still signed in");

    // Same origin by Referer: signs out.
    let ours = [("Referer", format!("{}/resources/{uuid}", server.url))];
    assert_eq!(logout(&server, &cookie, &ours).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(page(&server, &uuid, Some(&cookie)).await.status(), StatusCode::UNAUTHORIZED);

    // Same origin by Origin: signs out.
    let (_, cookie) = sign_in(&server, &uuid).await;
    let ours = [("Origin", server.url.clone())];
    assert_eq!(logout(&server, &cookie, &ours).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(page(&server, &uuid, Some(&cookie)).await.status(), StatusCode::UNAUTHORIZED);
}
