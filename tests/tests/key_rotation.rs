//! Keys: production refuses to start without its own keys, and a documented rotation works.
//!
//! Rotating `ADDON_TOKEN_KEY` (and, the same way, `ADDON_SESSION_KEY`): (1) start with key B as
//! the key and A in `ADDON_TOKEN_KEYS_PREVIOUS`: what A sealed still opens, new writes use B;
//! (2) once every value has been rewritten or is no longer needed, drop A: B's values open,
//! A's are refused cleanly (a JSON 4xx, never a 5xx).

use std::collections::HashMap;

use addon_runtime::{Error, Settings};
use addon_tests::*;
use reqwest::StatusCode;

const TOKEN_A: &str = "token-key-A-0123456789abcdefghijklmnop";
const TOKEN_B: &str = "token-key-B-0123456789abcdefghijklmnop";
const SESSION_A: &str = "session-key-A-0123456789abcdefghijklmn";
const SESSION_B: &str = "session-key-B-0123456789abcdefghijklmn";
const NONE: &[&str] = &[];

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

/// The start-up error for these variables over a production base, or `None` if it starts.
fn production_error(extra: &[(&str, &str)]) -> Option<String> {
    let mut pairs = vec![("ADDON_ENV", "production"), ("ADDON_PASSWORD", PASSWORD), ("ADDON_SSO_SALT", SALT)];
    pairs.extend_from_slice(extra);
    match Settings::from_vars::<TestAddon>(vars(&pairs)) {
        Ok(_) => None,
        Err(Error::Config(message)) => Some(message),
        Err(other) => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn production_refuses_to_start_without_keys_of_its_own() {
    let message = production_error(&[]).expect("no session key");
    assert!(message.contains("ADDON_SESSION_KEY must be set in production"), "{message}");

    let oauth = [("ADDON_SESSION_KEY", SESSION_A), ("HEROKU_OAUTH_CLIENT_SECRET", "client-secret")];
    let message = production_error(&oauth).expect("OAuth without a token key");
    assert!(message.contains("ADDON_TOKEN_KEY must be set in production"), "{message}");
    assert_eq!(production_error(&[oauth[0], oauth[1], ("ADDON_TOKEN_KEY", TOKEN_A)]), None);
    assert_eq!(production_error(&[("ADDON_SESSION_KEY", SESSION_A)]), None, "no OAuth: no token key needed");

    for (keys, named, other) in [
        (vec![("ADDON_SESSION_KEY", SALT)], "ADDON_SESSION_KEY", "ADDON_SSO_SALT"),
        (vec![("ADDON_SESSION_KEY", PASSWORD)], "ADDON_SESSION_KEY", "ADDON_PASSWORD"),
        (
            vec![("ADDON_SESSION_KEY", SESSION_A), ("ADDON_TOKEN_KEY", SALT)],
            "ADDON_TOKEN_KEY",
            "ADDON_SSO_SALT",
        ),
        (
            vec![("ADDON_SESSION_KEY", SESSION_A), ("ADDON_TOKEN_KEY", SESSION_A)],
            "ADDON_TOKEN_KEY",
            "ADDON_SESSION_KEY",
        ),
    ] {
        let message = production_error(&keys).expect("a key that is another secret");
        assert!(message.contains(named) && message.contains(other), "{message}");
    }
    let with = |name, value| production_error(&[("ADDON_SESSION_KEY", SESSION_A), (name, value)]);
    for (name, value) in [
        ("ADDON_TOKEN_KEY", "short"),
        ("ADDON_TOKEN_KEY", "a,key,with,commas,0123456789abcdefghij"),
        ("ADDON_SESSION_KEYS_PREVIOUS", SESSION_A),
        ("ADDON_TOKEN_KEYS_PREVIOUS", "old-key-1,,old-key-2"),
    ] {
        let message = with(name, value).unwrap_or_else(|| panic!("{name}={value} was accepted"));
        assert!(message.contains(name), "{name}: {message}");
    }
    assert_eq!(with("ADDON_TOKEN_KEYS_PREVIOUS", "old-key-1, old-key-2"), None);
}

fn settings(token: &str, previous_token: &[&str], session: &str, previous_session: &[&str]) -> Settings {
    Settings::development(PASSWORD, SALT)
        .with_token_keys(token, previous_token)
        .with_session_keys(session, previous_session)
}

/// A new instance on the registry file at `path`, as after a restart with other settings.
async fn restart(database: &TestDatabase, settings: Settings) -> TestServer {
    TestServer::start_on(settings, database).await
}

/// A session cookie for `uuid` (the `name=value` pair a browser sends back).
async fn sign_in(server: &TestServer, uuid: &str) -> String {
    let response = server.sso_post(&resource_token_form(uuid, SALT, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie_pair(set_cookie(&response, Session::COOKIE).expect("a session cookie"))
}

async fn page_status(server: &TestServer, uuid: &str, cookie: &str) -> StatusCode {
    let url = format!("{}/resources/{uuid}", server.url);
    server.client.get(url).header("Cookie", cookie).send().await.unwrap().status()
}

async fn stored_key_id(server: &TestServer, uuid: &str) -> String {
    let stored: String = sqlx::query_scalar("SELECT response FROM addon_resources WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    let mut parts = stored.split('.');
    assert_eq!(parts.next(), Some("v2"), "{stored}");
    parts.next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_keys_seals_with_the_new_one_while_the_old_one_still_opens() {
    let database = TestDatabase::sqlite();

    // Key A: a resource, its answer and a session.
    let with_a = restart(&database, settings(TOKEN_A, NONE, SESSION_A, NONE)).await;
    let old = new_uuid();
    let answer = with_a.provision(&v3_body(&old, "basic")).await.bytes().await.unwrap();
    let cookie_a = sign_in(&with_a, &old).await;
    assert_eq!(page_status(&with_a, &old, &cookie_a).await, StatusCode::OK);
    let id_a = stored_key_id(&with_a, &old).await;

    // B current, A previous: A's values open, A's cookie verifies, new writes use B.
    let rotating = restart(&database, settings(TOKEN_B, &[TOKEN_A], SESSION_B, &[SESSION_A])).await;
    let replay = rotating.provision(&v3_body(&old, "basic")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.bytes().await.unwrap(), answer, "A's answer replays byte for byte");
    let record = rotating.store.resource(&old).await.unwrap().unwrap();
    assert_eq!(record.config_var("TEST_ADDON_TOKEN"), Some("token-1"));
    assert_eq!(page_status(&rotating, &old, &cookie_a).await, StatusCode::OK, "A's cookie still verifies");
    let new = new_uuid();
    let new_answer = rotating.provision(&v3_body(&new, "basic")).await.bytes().await.unwrap();
    let id_b = stored_key_id(&rotating, &new).await;
    assert_ne!(id_a, id_b, "new writes are sealed with B, and say so");
    let cookie_b = sign_in(&rotating, &new).await;

    // A dropped: B's values open and B's cookie verifies; A's are refused cleanly.
    let b_only = restart(&database, settings(TOKEN_B, NONE, SESSION_B, NONE)).await;
    let replay = b_only.provision(&v3_body(&new, "basic")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.bytes().await.unwrap(), new_answer);
    assert_eq!(page_status(&b_only, &new, &cookie_b).await, StatusCode::OK);
    let refused = b_only.provision(&v3_body(&old, "basic")).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "A's answer no longer opens: a 4xx, not a 5xx");
    assert!(json_message(refused).await.contains("current keys"));
    let record = b_only.store.resource(&old).await.unwrap().expect("the record still reads");
    assert!(record.config.is_empty(), "A's config does not open, and nothing fails");
    assert_eq!(
        page_status(&b_only, &old, &cookie_a).await,
        StatusCode::UNAUTHORIZED,
        "A's cookie is refused"
    );
    assert_eq!(
        b_only.deprovision(&old).await.status(),
        StatusCode::NO_CONTENT,
        "A's resource can still be removed"
    );
}
