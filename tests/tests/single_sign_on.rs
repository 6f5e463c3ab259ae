//! Single sign-on over real HTTP: the three token generations, every refusal, the session
//! cookie and the pages it opens.

use addon_runtime::{Mode, Settings, TokenKind, UserScopedToken};
use addon_tests::*;
use reqwest::StatusCode;

async fn provisioned(server: &TestServer) -> String {
    let uuid = new_uuid();
    assert_eq!(server.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);
    uuid
}

/// Follows the redirect by hand with the session cookie, as a browser would.
async fn open_with_cookie(server: &TestServer, path: &str, cookie: &str) -> reqwest::Response {
    server.client.get(format!("{}{path}", server.url)).header("Cookie", cookie).send().await.unwrap()
}

#[tokio::test]
async fn a_resource_token_signs_in_with_a_303_and_a_scoped_session() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let response = server.sso_post(&resource_token_form(&uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/resources/{uuid}"));
    let cookie = set_cookie(&response, Session::COOKIE).expect("a session cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "no Secure flag over plain http in development");

    let page = open_with_cookie(&server, &location, &cookie_pair(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body: serde_json::Value = page.json().await.unwrap();
    assert_eq!(body["uuid"], uuid.as_str());
    assert_eq!(body["email"], "user@example.com");
    // A resource token covers the resource, not the user: the email is only what the form said.
    assert_eq!((body["vouched"].as_bool(), body["vouched_email"].is_null()), (Some(false), true));
    assert_eq!(
        *server.addon.last_login.lock().unwrap(),
        Some((TokenKind::Resource, Some("user@example.com".into())))
    );
}

#[tokio::test]
async fn a_user_scoped_token_signs_in_and_vouches_for_the_user() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let form = user_scoped_form(&uuid, SALT, now(), "5c2b6a36-user", "dev@example.com");
    let response = server.sso_post(&form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response, Session::COOKIE).is_some());
    assert_eq!(
        *server.addon.last_login.lock().unwrap(),
        Some((TokenKind::UserScoped, Some("dev@example.com".into())))
    );

    // The sha1 resource token still holds, but a changed email breaks the user-scoped one.
    let mut forged = form.clone();
    forged.iter_mut().find(|(k, _)| *k == "email").unwrap().1 = "mallory@example.com".into();
    assert_eq!(server.sso_post(&forged).await.status(), StatusCode::FORBIDDEN);

    // A vendor who chose to ignore user-scoped tokens falls back to the resource token.
    let lenient = TestServer::start_with(
        Settings::development(PASSWORD, SALT).with_user_scoped_token(UserScopedToken::Ignore),
    )
    .await;
    let uuid = provisioned(&lenient).await;
    let mut form = user_scoped_form(&uuid, SALT, now(), "user", "dev@example.com");
    form.iter_mut().find(|(k, _)| *k == "user_scoped_resource_token").unwrap().1 = "0".repeat(64);
    assert_eq!(lenient.sso_post(&form).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_legacy_token_signs_in_and_keeps_heroku_nav_data() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let response = server.sso_post(&legacy_form(&uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response, Session::COOKIE).is_some());
    let nav = set_cookie(&response, "heroku-nav-data").expect("the nav-data cookie");
    assert!(nav.starts_with("heroku-nav-data=eyJhZGRvbiI6IlRlc3QifQ;"), "{nav}");
    assert_eq!(server.addon.last_login.lock().unwrap().as_ref().unwrap().0, TokenKind::Legacy);
}

#[tokio::test]
async fn the_legacy_get_link_signs_in_with_a_302() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let ts = now();
    let token = sha1_hex(&format!("{uuid}:{SALT}:{ts}"));
    let url = format!(
        "{}/heroku/resources/{uuid}?token={token}&timestamp={ts}&nav-data=abc&email=u%40example.com",
        server.url
    );
    let response = server.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], format!("/resources/{uuid}").as_str());
    assert!(set_cookie(&response, Session::COOKIE).is_some());

    // The same link with a token for another resource, or none at all, is refused.
    let other = sha1_hex(&format!("{}:{SALT}:{ts}", new_uuid()));
    let url = format!("{}/heroku/resources/{uuid}?token={other}&timestamp={ts}", server.url);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let url = format!("{}/heroku/resources/{uuid}", server.url);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_stale_future_and_cross_resource_tokens_get_403_without_reaching_the_vendor() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let other = provisioned(&server).await;
    let mut wrong = resource_token_form(&uuid, SALT, now());
    wrong[1].1 = sha1_hex("something else");
    let mut cross = resource_token_form(&other, SALT, now());
    cross[0].1 = uuid.clone();
    let mut no_timestamp = resource_token_form(&uuid, SALT, now());
    no_timestamp.retain(|(k, _)| *k != "timestamp");
    let cases = [
        ("wrong token", wrong),
        ("wrong salt", resource_token_form(&uuid, "another-salt", now())),
        ("stale", resource_token_form(&uuid, SALT, now() - 6 * 60)),
        ("future", resource_token_form(&uuid, SALT, now() + 6 * 60)),
        ("another resource's token", cross),
        ("no timestamp", no_timestamp),
        ("legacy, wrong", legacy_form(&uuid, "nope", now())),
        ("nothing", vec![("resource_id", uuid.clone())]),
    ];
    for (case, form) in cases {
        let response = server.sso_post(&form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
        assert!(set_cookie(&response, Session::COOKIE).is_none(), "{case}");
        assert!(json_message(response).await.contains("Heroku dashboard"), "{case}");
    }
    assert_eq!(TestAddon::calls(&server.addon.sso_logins), 0);
}

#[tokio::test]
async fn the_time_window_is_configurable() {
    let settings = Settings::development(PASSWORD, SALT).with_sso_window(std::time::Duration::from_secs(30));
    let server = TestServer::start_with(settings).await;
    let uuid = provisioned(&server).await;
    assert_eq!(
        server.sso_post(&resource_token_form(&uuid, SALT, now() - 60)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.sso_post(&resource_token_form(&uuid, SALT, now() - 10)).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn unknown_and_deprovisioned_resources_cannot_sign_in() {
    let server = TestServer::start().await;
    let response = server.sso_post(&resource_token_form(&new_uuid(), SALT, now())).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    json_message(response).await;

    let uuid = provisioned(&server).await;
    server.deprovision(&uuid).await;
    let response = server.sso_post(&resource_token_form(&uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json_message(response).await.contains("removed"));
    assert_eq!(TestAddon::calls(&server.addon.sso_logins), 0);
}

#[tokio::test]
async fn a_session_opens_its_own_resource_only_and_cannot_be_forged() {
    let server = TestServer::start().await;
    let a = provisioned(&server).await;
    let b = provisioned(&server).await;
    let response = server.sso_post(&resource_token_form(&a, SALT, now())).await;
    let cookie = cookie_pair(set_cookie(&response, Session::COOKIE).unwrap());

    assert_eq!(open_with_cookie(&server, &format!("/resources/{a}"), &cookie).await.status(), StatusCode::OK);
    let other = open_with_cookie(&server, &format!("/resources/{b}"), &cookie).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(json_message(other).await.contains("different add-on"));

    let no_cookie = server.client.get(format!("{}/resources/{a}", server.url)).send().await.unwrap();
    assert_eq!(no_cookie.status(), StatusCode::UNAUTHORIZED);
    json_message(no_cookie).await;

    // Flip one character of the payload: the signature no longer holds.
    let (name, value) = cookie.split_once('=').unwrap();
    let mut chars: Vec<char> = value.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{name}={}", chars.into_iter().collect::<String>());
    assert_eq!(
        open_with_cookie(&server, &format!("/resources/{a}"), &tampered).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn production_cookies_are_secure() {
    let server =
        TestServer::start_with(Settings::development(PASSWORD, SALT).with_mode(Mode::Production)).await;
    let uuid = provisioned(&server).await;
    let response = server.sso_post(&legacy_form(&uuid, SALT, now())).await;
    assert!(set_cookie(&response, Session::COOKIE).unwrap().contains("; Secure"));
    assert!(set_cookie(&response, "heroku-nav-data").unwrap().contains("; Secure"));
}

#[tokio::test]
async fn the_sso_route_takes_forms_only() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let form = urlencode(&resource_token_form(&uuid, SALT, now()));
    let response = server
        .client
        .post(format!("{}/sso/login", server.url))
        .header("Content-Type", "application/json")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    json_message(response).await;
}

#[tokio::test]
async fn an_add_on_without_an_sso_method_lands_users_on_the_root() {
    let server = hand_written::start().await;
    let uuid = new_uuid();
    assert_eq!(
        server.provision(&serde_json::json!({"uuid": uuid, "plan": "basic"})).await.status(),
        StatusCode::OK
    );
    let response = server.sso_post(&resource_token_form(&uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
}

/// The user behind a session, as the test add-on's page shows it.
async fn signed_in_user(server: &TestServer, response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let cookie = set_cookie(&response, Session::COOKIE).expect("a session cookie").to_owned();
    open_with_cookie(server, &location, &cookie_pair(&cookie)).await.json().await.unwrap()
}

#[tokio::test]
async fn sessions_say_whether_heroku_vouched_for_the_user() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let scoped = user_scoped_form(&uuid, SALT, now(), "user-7", "dev@example.com");
    let user = signed_in_user(&server, server.sso_post(&scoped).await).await;
    assert_eq!(user["vouched"], true);
    assert_eq!(user["vouched_email"], "dev@example.com");

    // Anyone with a valid resource token can write any email: shown, never vouched for.
    let mut claimed = resource_token_form(&uuid, SALT, now());
    claimed.iter_mut().find(|(k, _)| *k == "email").unwrap().1 = "mallory@example.com".into();
    let user = signed_in_user(&server, server.sso_post(&claimed).await).await;
    assert_eq!(
        (&user["email"], &user["vouched"], &user["vouched_email"]),
        (&"mallory@example.com".into(), &false.into(), &serde_json::Value::Null)
    );
}

#[tokio::test]
async fn require_mode_refuses_logins_heroku_did_not_vouch_for() {
    let settings = Settings::development(PASSWORD, SALT).with_user_scoped_token(UserScopedToken::Require);
    let server = TestServer::start_with(settings).await;
    let uuid = provisioned(&server).await;
    for (case, form) in [
        ("resource token", resource_token_form(&uuid, SALT, now())),
        ("legacy token", legacy_form(&uuid, SALT, now())),
    ] {
        let response = server.sso_post(&form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
        assert!(json_message(response).await.contains("vouches"), "{case}");
    }
    let scoped = user_scoped_form(&uuid, SALT, now(), "user-7", "dev@example.com");
    assert_eq!(signed_in_user(&server, server.sso_post(&scoped).await).await["vouched"], true);
    assert_eq!(TestAddon::calls(&server.addon.sso_logins), 1);
}

#[tokio::test]
async fn oversize_fields_and_overflowing_timestamps_are_refusals_not_crashes() {
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;

    // 254 bytes is the longest address there is; 255 is refused by name, before any session.
    let mut form = user_scoped_form(&uuid, SALT, now(), "u", &format!("{}@example.com", "a".repeat(242)));
    assert_eq!(server.sso_post(&form).await.status(), StatusCode::SEE_OTHER);
    let long = format!("{}@example.com", "a".repeat(200_000));
    form = user_scoped_form(&uuid, SALT, now(), "u", &long);
    let response = server.sso_post(&form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&response, Session::COOKIE).is_none());
    let message = json_message(response).await;
    assert!(message.contains("`email`") && message.contains("254 bytes"), "{message}");

    // The largest u64, and past it: a 403 (or 400 for what is not a number), never a 500.
    for timestamp in ["18446744073709551615", "18446744073709551616", "-1", "99999999999999999999999"] {
        let mut form = resource_token_form(&uuid, SALT, now());
        form.iter_mut().find(|(k, _)| *k == "timestamp").unwrap().1 = timestamp.into();
        let response = server.sso_post(&form).await;
        assert!(response.status().is_client_error(), "{timestamp}: {}", response.status());
        assert!(!json_message(response).await.is_empty(), "{timestamp}");
    }
    let url = format!("{}/heroku/resources/{uuid}?token=x&timestamp=18446744073709551615", server.url);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn single_use_mode_refuses_a_replayed_form_on_every_instance() {
    let database = TestDatabase::sqlite();
    let single_use = || settings().with_sso_single_use(true);
    let first = TestServer::start_on(single_use(), &database).await;
    let second = TestServer::start_on(single_use(), &database).await;
    let uuid = provisioned(&first).await;
    let signed_at = now();
    let form = resource_token_form(&uuid, SALT, signed_at);
    assert_eq!(first.sso_post(&form).await.status(), StatusCode::SEE_OTHER);
    for (instance, server) in [("the same instance", &first), ("another instance", &second)] {
        let response = server.sso_post(&form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{instance}");
        assert!(json_message(response).await.contains("already been used"), "{instance}");
    }
    // A fresh form (another timestamp, so another token) still signs in.
    assert_eq!(
        second.sso_post(&resource_token_form(&uuid, SALT, signed_at - 1)).await.status(),
        StatusCode::SEE_OTHER
    );

    // Without the mode, the same form may be posted again within its window (Heroku's default).
    let server = TestServer::start().await;
    let uuid = provisioned(&server).await;
    let form = resource_token_form(&uuid, SALT, now());
    for _ in 0..2 {
        assert_eq!(server.sso_post(&form).await.status(), StatusCode::SEE_OTHER);
    }
}
