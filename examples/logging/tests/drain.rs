//! Log drain ingestion over HTTP, as Heroku's Logplex sends it: valid frames, repeated frames,
//! unknown drain tokens and malformed bodies, on SQLite and on PostgreSQL; and the dashboard
//! that shows what was kept.

mod support;

use acme_logs::logplex::frame;
use acme_logs::{DrainStats, LogBook, LogLine};
use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::{
    client, cookie_pair, now, resource_token_form, set_cookie, TestApp, TestDatabase,
};
use addon_runtime::Session;
use support::*;

/// The example in-process, with Heroku's client and a reader of its log tables.
#[derive(Clone)]
struct Drain {
    app: std::sync::Arc<TestApp>,
    client: reqwest::Client,
    book: LogBook,
}

impl Drain {
    async fn start(database: TestDatabase) -> Drain {
        let app = serve_in_process(&database).await;
        let book = LogBook::open(&app.store).await.unwrap();
        Drain { app: std::sync::Arc::new(app), client: client(), book }
    }

    fn origin(&self) -> &str {
        &self.app.url
    }

    /// A provisioned resource and its drain token.
    async fn tenant(&self) -> (String, String) {
        let tenant = tenant(&self.app, "basic").await;
        (tenant.uuid, tenant.drain_token)
    }

    /// Posts a frame as Logplex does: its headers, then the body.
    async fn post(
        &self,
        token: &str,
        frame_id: Option<&str>,
        count: Option<usize>,
        body: &str,
    ) -> reqwest::Response {
        post_frame(&self.client, self.origin(), token, frame_id, count, body.to_owned()).await
    }

    async fn lines(&self, uuid: &str, search: Option<&str>) -> Vec<String> {
        let lines: Vec<LogLine> =
            self.book.recent(uuid, acme_logs::plan("basic").unwrap(), search, 100).await.unwrap();
        lines.into_iter().map(|l| l.text).collect()
    }
}

/// A Heroku-style app line at `time` (HH:MM:SS on a fixed day) from `process`.
fn line(time: &str, process: &str, text: &str) -> String {
    app_line(&format!("2024-05-01T{time}.000000+00:00"), process, text)
}

async fn valid_frames_are_stored_whole_and_listed_newest_first(drain: Drain) {
    let (uuid, token) = drain.tenant().await;
    let (other, other_token) = drain.tenant().await;
    let first =
        format!("{}{}", line("10:00:01", "web.1", "Booting"), line("10:00:02", "web.1", "Listening on 5000"));
    let response = drain.post(&token, Some("frame-1"), Some(2), &first).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The second frame brings the newest line and one logged before all others (a slow dyno).
    let second = format!(
        "{}{}{}",
        line("10:00:03", "web.2", "GET /checkout 200 in 12ms ☕"),
        line("09:59:59", "worker.1", "late line"),
        frame("<134>1 - host heroku router - at=info method=GET path=\"/\"\n"),
    );
    assert_eq!(drain.post(&token, Some("frame-2"), Some(3), &second).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        drain
            .post(&other_token, Some("frame-1"), Some(1), &line("10:00:05", "web.1", "other tenant"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let lines = drain.lines(&uuid, None).await;
    // The router line has no timestamp: it is dated by its arrival, today, so it is the newest.
    assert_eq!(
        lines,
        [
            "at=info method=GET path=\"/\"",
            "GET /checkout 200 in 12ms ☕",
            "Listening on 5000",
            "Booting",
            "late line"
        ]
    );
    assert_eq!(
        drain.book.stats(&uuid).await.unwrap(),
        DrainStats { frames: 2, lines: 5, duplicates: 0, rejected: 0 }
    );
    assert_eq!(drain.lines(&other, None).await, ["other tenant"], "a tenant sees its own lines only");
}

#[tokio::test]
async fn valid_frames_are_stored_whole_and_listed_newest_first_on_sqlite() {
    valid_frames_are_stored_whole_and_listed_newest_first(Drain::start(TestDatabase::sqlite()).await).await;
}

#[tokio::test]
async fn valid_frames_are_stored_whole_and_listed_newest_first_on_postgres() {
    valid_frames_are_stored_whole_and_listed_newest_first(Drain::start(TestDatabase::postgres().await).await)
        .await;
}

async fn a_repeated_frame_is_stored_once(drain: Drain) {
    let (uuid, token) = drain.tenant().await;
    let body = line("11:00:00", "web.1", "once");
    for _ in 0..2 {
        assert_eq!(drain.post(&token, Some("f-1"), Some(1), &body).await.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(drain.lines(&uuid, None).await, ["once"]);

    // Eight copies of one frame at once: one is stored, seven are counted as duplicates.
    let body = line("11:00:01", "web.1", "racing");
    let posts: Vec<_> = (0..8)
        .map(|_| {
            let (drain, token, body) = (drain.clone(), token.clone(), body.clone());
            tokio::spawn(async move { drain.post(&token, Some("f-2"), Some(1), &body).await.status() })
        })
        .collect();
    for post in posts {
        assert_eq!(post.await.unwrap(), StatusCode::NO_CONTENT);
    }
    assert_eq!(drain.lines(&uuid, None).await, ["racing", "once"]);
    let stats = drain.book.stats(&uuid).await.unwrap();
    assert_eq!((stats.frames, stats.lines, stats.duplicates), (2, 2, 8));

    // Without a frame id there is nothing to recognise a copy by: both are kept.
    let anonymous = line("11:00:02", "web.1", "no id");
    for _ in 0..2 {
        assert_eq!(drain.post(&token, None, Some(1), &anonymous).await.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(drain.lines(&uuid, None).await, ["no id", "no id", "racing", "once"]);

    // Frame ids are per drain: another tenant's "f-1" is its own.
    let (other, other_token) = drain.tenant().await;
    assert_eq!(drain.post(&other_token, Some("f-1"), Some(1), &body).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(drain.lines(&other, None).await, ["racing"]);
}

#[tokio::test]
async fn a_repeated_frame_is_stored_once_on_sqlite() {
    a_repeated_frame_is_stored_once(Drain::start(TestDatabase::sqlite()).await).await;
}

#[tokio::test]
async fn a_repeated_frame_is_stored_once_on_postgres() {
    a_repeated_frame_is_stored_once(Drain::start(TestDatabase::postgres().await).await).await;
}

#[tokio::test]
async fn unknown_missing_and_removed_drain_tokens_are_refused() {
    let drain = Drain::start(TestDatabase::sqlite()).await;
    let body = line("12:00:00", "web.1", "hello");
    let response = drain.post("d.00000000-unknown", Some("f"), Some(1), &body).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(message(response).await.contains("No Acme Logs resource has this drain token"));

    let response = drain
        .client
        .post(format!("{}/drain", drain.origin()))
        .header("Content-Type", "application/logplex-1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(message(response).await.contains("Logplex-Drain-Token"));

    // Deprovisioning deletes the tenant's logs, and its drain token stops working.
    let (uuid, token) = drain.tenant().await;
    assert_eq!(drain.post(&token, Some("f"), Some(1), &body).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(drain.app.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    assert!(drain.lines(&uuid, None).await.is_empty());
    assert_eq!(drain.book.stats(&uuid).await.unwrap(), DrainStats::default());
    assert_eq!(drain.post(&token, Some("g"), Some(1), &body).await.status(), StatusCode::NOT_FOUND);
}

/// A malformed delivery: what is sent, and what the answer must be and say.
struct Malformed {
    name: &'static str,
    count: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    says: &'static str,
}

/// A `400` case, with Logplex's content type.
fn bad(name: &'static str, count: &'static str, body: impl Into<Vec<u8>>, says: &'static str) -> Malformed {
    let body = body.into();
    Malformed {
        name,
        count,
        content_type: "application/logplex-1",
        body,
        status: StatusCode::BAD_REQUEST,
        says,
    }
}

#[tokio::test]
async fn malformed_bodies_get_4xx_are_counted_and_store_nothing() {
    let drain = Drain::start(TestDatabase::sqlite()).await;
    let (uuid, token) = drain.tenant().await;
    let good = line("13:00:00", "web.1", "fine");
    let cases = [
        bad("empty body", "0", "", "holds no log messages"),
        bad("truncated", "1", &good[..good.len() - 5], "only"),
        bad("not a length", "1", "abc <190>1 - h a p - x", "its length in bytes"),
        bad("not syslog", "1", frame("hello"), "not an RFC 5424 syslog message"),
        bad("count too high", "2", good.clone(), "says 2 messages, but the body holds 1"),
        bad("count not a number", "one", good.clone(), "Logplex-Msg-Count"),
        bad("one bad message", "2", format!("{good}{}", frame("<190>1 yesterday h a p - x")), "message 2"),
        Malformed {
            content_type: "text/plain",
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            says: "application/logplex-1",
            ..bad("wrong content type", "1", good.clone(), "")
        },
        Malformed {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            says: "could not be read",
            ..bad("over the size limit", "1", vec![b'9'; 2 * 1024 * 1024], "")
        },
    ];
    let total = cases.len() as i64;
    for case in cases {
        let response = to_drain(&drain.client, drain.origin(), &token)
            .header("Content-Type", case.content_type)
            .header("Logplex-Frame-Id", "bad-frame")
            .header("Logplex-Msg-Count", case.count)
            .body(case.body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), case.status, "{}", case.name);
        let text = message(response).await;
        assert!(text.contains(case.says), "{}: {text}", case.name);
    }
    let long_id = "x".repeat(200);
    assert_eq!(drain.post(&token, Some(&long_id), Some(1), &good).await.status(), StatusCode::BAD_REQUEST);

    assert!(drain.lines(&uuid, None).await.is_empty(), "nothing of a refused frame is kept");
    let stats = drain.book.stats(&uuid).await.unwrap();
    assert_eq!(stats, DrainStats { rejected: total + 1, ..DrainStats::default() });
    // A refused frame leaves no trace of its id: the corrected retry is stored.
    assert_eq!(drain.post(&token, Some("bad-frame"), Some(1), &good).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(drain.lines(&uuid, None).await, ["fine"]);
}

#[tokio::test]
async fn search_matches_words_in_any_case_and_wildcards_literally() {
    let drain = Drain::start(TestDatabase::sqlite()).await;
    let (uuid, token) = drain.tenant().await;
    let body = [
        line("14:00:01", "web.1", "GET /Checkout 200"),
        line("14:00:02", "worker.1", "disk 100% full"),
        line("14:00:03", "web.2", "user a_b signed in"),
        line("14:00:04", "web.2", "path C:\\temp"),
        line("14:00:05", "web.2", "disk 1000 full"),
    ]
    .concat();
    assert_eq!(drain.post(&token, Some("s"), Some(5), &body).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(drain.lines(&uuid, Some("checkout")).await, ["GET /Checkout 200"]);
    assert_eq!(drain.lines(&uuid, Some("100%")).await, ["disk 100% full"]);
    assert_eq!(drain.lines(&uuid, Some("_")).await, ["user a_b signed in"]);
    assert_eq!(drain.lines(&uuid, Some("C:\\")).await, ["path C:\\temp"]);
    assert_eq!(drain.lines(&uuid, Some("worker.1")).await, ["disk 100% full"], "the source is searched too");
    assert!(drain.lines(&uuid, Some("nothing like this")).await.is_empty());
}

#[tokio::test]
async fn an_email_heroku_did_not_vouch_for_is_marked_on_the_dashboard() {
    let drain = Drain::start(TestDatabase::sqlite()).await;
    let (uuid, _) = drain.tenant().await;
    // The sha1 `resource_token` alone does not cover the email: it is only what the form says.
    let mut form = resource_token_form(&uuid, SALT, now());
    form.retain(|(name, _)| *name != "email");
    form.push(("email", "mallory@example.com".to_owned()));
    let response = drain.app.sso_post(&form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_pair(set_cookie(&response, Session::COOKIE).expect("a session cookie"));
    let page = drain.client.get(format!("{}/dashboard/{uuid}", drain.origin())).header("Cookie", cookie);
    let html = page.send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Signed in as mallory@example.com (not confirmed by Heroku)"), "{html}");
}

#[tokio::test]
async fn the_dashboard_shows_the_plan_and_lines_to_its_own_tenant_only() {
    let drain = Drain::start(TestDatabase::sqlite()).await;
    let (uuid, token) = drain.tenant().await;
    let (other, _) = drain.tenant().await;
    let body = [
        line("15:00:01", "web.1", "first <script>alert(1)</script>"),
        line("15:00:02", "web.1", "second line"),
        line("15:00:03", "web.1", "third line"),
    ]
    .concat();
    assert_eq!(drain.post(&token, Some("d"), Some(3), &body).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(drain.post(&token, None, None, "garbage").await.status(), StatusCode::BAD_REQUEST);
    let cookie = sign_in(&drain.app, SALT, &uuid).await;
    let open = |path: String, cookie: Option<String>| {
        let mut request = drain.client.get(format!("{}{path}", drain.origin())).header("Accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        request.send()
    };

    let page = open(format!("/dashboard/{uuid}"), Some(cookie.clone())).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let (third, second, first) = (
        html.find("third line").unwrap(),
        html.find("second line").unwrap(),
        html.find("first &#60;script&#62;alert(1)&#60;/script&#62;").unwrap(),
    );
    assert!(third < second && second < first, "newest first");
    assert!(!html.contains("<script>alert"), "log lines are escaped");
    assert!(html.contains("class=\"plan\">basic<") && html.contains(EMAIL));
    assert!(!html.contains("not confirmed"), "Heroku vouched for this user");
    assert!(html.contains("id=\"frames-rejected\">1<") && html.contains("id=\"lines-stored\">3<"));
    assert!(html.contains("action=\"/sso/logout\""), "a sign-out button");

    let found = open(format!("/dashboard/{uuid}?q=SECOND"), Some(cookie.clone()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        found.contains("second line") && !found.contains("third line") && found.contains("value=\"SECOND\"")
    );

    let refused = open(format!("/dashboard/{other}"), Some(cookie.clone())).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("belongs to another add-on") && !refused.contains("second line"));

    let own = open("/dashboard".into(), Some(cookie)).await.unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(own.headers()["location"], format!("/dashboard/{uuid}").as_str());

    let signed_out = open(format!("/dashboard/{uuid}"), None).await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_out.headers()["location"], "/signed-out?reason=not-signed-in");
    let landing = open("/signed-out?reason=not-signed-in".into(), None).await.unwrap().text().await.unwrap();
    assert!(landing.contains("Resources tab in the Heroku dashboard"));
}
