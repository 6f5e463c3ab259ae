//! Plays Heroku against the built example, from the manifest its build wrote: the acceptance
//! test of the example as a vendor would ship it.

mod support;

use addon_runtime::testing::reqwest::{Method, StatusCode};
use addon_runtime::testing::serde_json::{json, Value};
use addon_runtime::testing::{
    client, cookie_pair, legacy_form, now, resource_token_form, set_cookie, sha1_hex, urlencode,
    user_scoped_form, TestDatabase, TokenKind,
};
use addon_runtime::Session;
use support::*;

#[tokio::test]
async fn heroku_from_the_manifest_against_the_running_example() {
    let manifest = manifest();
    let (id, api) = (manifest.id.clone(), &manifest.api);
    let (password, salt) = (api.password.clone(), api.sso_salt.clone());
    assert_eq!(password.len(), 32);
    assert_eq!(api.version, "3");
    assert_eq!(api.requires, ["syslog_drain"]);
    assert!(manifest.problems().is_empty(), "{:?}", manifest.problems());

    let example = start_example(&TestDatabase::sqlite());
    // The manifest's test URLs, moved to the port this run listens on.
    let base = format!("{}{}", example.origin, example.heroku.base_path());
    let sso_url = example.heroku.sso_url();
    let client = client();
    let heroku = |method: Method, url: String| {
        client
            .request(method, url)
            .basic_auth(&id, Some(&password))
            .header("Content-Type", "application/json")
            .header("Accept", "application/vnd.heroku-addons+json; version=3")
    };
    let uuid = "2f0c6a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f";

    // 401 for bad credentials on all three verbs.
    for (method, url) in [
        (Method::POST, base.clone()),
        (Method::PUT, format!("{base}/{uuid}")),
        (Method::DELETE, format!("{base}/{uuid}")),
    ] {
        let response = client
            .request(method.clone(), &url)
            .basic_auth(&id, Some("wrong"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method}");
        assert!(response.headers().contains_key("www-authenticate"));
    }

    // 200 with only declared, string config.
    let body = json!({
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"), "name": "acme-logs-cubed-12345",
        "oauth_grant": {"code": "c0de", "expires_at": "2026-11-27T18:01:31-0800", "type": "authorization_code"},
        "options": {}, "plan": "basic", "region": "amazon-web-services::us-east-1", "uuid": uuid,
        "log_drain_token": "d.7a1b2c3d-0000-4000-8000-000000000001"
    });
    let response = heroku(Method::POST, base.clone()).body(body.to_string()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let provisioned: Value = response.json().await.unwrap();
    assert_eq!(provisioned["id"], uuid);
    let declared: Vec<&str> = api.config_vars.iter().map(String::as_str).collect();
    let config = provisioned["config"].as_object().unwrap();
    assert_eq!(config.len(), declared.len());
    for (name, value) in config {
        assert!(declared.contains(&name.as_str()), "{name} is declared");
        assert!(value.is_string(), "{name} is a string");
    }
    assert!(config["ACME_LOGS_URL"].as_str().unwrap().starts_with(&example.origin));
    assert!(provisioned["log_drain_url"].as_str().unwrap().ends_with("/drain"));

    // 200 on plan change (and on the same plan again).
    let response =
        heroku(Method::PUT, format!("{base}/{uuid}")).body(r#"{"plan":"pro"}"#).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["message"], "Moved from basic to pro.");
    let response =
        heroku(Method::PUT, format!("{base}/{uuid}")).body(r#"{"plan":"pro"}"#).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response =
        heroku(Method::PUT, format!("{base}/{uuid}")).body(r#"{"plan":"platinum"}"#).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // 303 with a session cookie for each token kind, and the dashboard opens with it.
    let ts = now();
    let forms = [
        resource_token_form(uuid, &salt, ts),
        user_scoped_form(uuid, &salt, ts, "u-1", "dev@acme.example"),
        legacy_form(uuid, &salt, ts),
    ];
    for pairs in &forms {
        let response = client
            .post(&sso_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(urlencode(pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", pairs[1].0);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let cookie = cookie_pair(set_cookie(&response, Session::COOKIE).expect("the session cookie"));
        let page = client
            .get(format!("{}{location}", example.origin))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(uuid) && html.contains("class=\"plan\">pro<"),
            "the dashboard shows the resource"
        );
    }

    // 403 for wrong, stale, future and cross-resource tokens.
    let other = "9e8d7c6b-0000-4000-8000-000000000002";
    let refused = [
        sha1_hex("wrong"),
        sha1_hex(&format!("{uuid}:{salt}:{}", ts - 600)),
        sha1_hex(&format!("{uuid}:{salt}:{}", ts + 600)),
        sha1_hex(&format!("{other}:{salt}:{ts}")),
    ];
    let stamps = [ts, ts - 600, ts + 600, ts].map(|stamp| stamp.to_string());
    for (token, stamp) in refused.iter().zip(&stamps) {
        let pairs = [
            ("resource_id", uuid.to_owned()),
            ("resource_token", token.clone()),
            ("timestamp", stamp.clone()),
        ];
        let response = client
            .post(&sso_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(urlencode(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    // 204 on deprovision, then 410.
    let response = heroku(Method::DELETE, format!("{base}/{uuid}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = heroku(Method::DELETE, format!("{base}/{uuid}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::GONE);
}

#[tokio::test]
async fn tenants_survive_a_restart() {
    let database = TestDatabase::sqlite();
    let client = client();
    let uuid = "7c0e2b1a-5d4f-4e3a-9b8c-1d2e3f4a5b6c";
    let body = json!({"uuid": uuid, "plan": "basic", "log_drain_token": "d.restart", "region": "amazon-web-services::eu-west-1"});

    let first = start_example(&database);
    let recorded = first.heroku.provision(&body).await;
    assert_eq!(recorded.status(), StatusCode::OK);
    let recorded: Value = recorded.json().await.unwrap();
    drop(first); // killed; the registry stays while `database` is held

    let second = start_example(&database);
    let replay = second.heroku.provision(&body).await;
    assert_eq!(replay.status(), StatusCode::OK);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed, recorded, "the same answer, token included, after the restart");

    let response = second.heroku.sso_post(&second.heroku.sso_form(TokenKind::Resource, uuid, now())).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_pair(set_cookie(&response, Session::COOKIE).expect("the session cookie"));
    let page = client
        .get(format!("{}/dashboard/{uuid}", second.origin))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("class=\"plan\">basic<"));
}
