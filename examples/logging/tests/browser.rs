//! The path a Heroku user takes, in a real browser: headless Chromium, driven over WebDriver by
//! `chromedriver`, against the example's own binary.
//!
//! Logplex drains lines to the add-on; a page on another site (as Heroku's dashboard is) posts
//! the SSO form by script; the browser follows the 303 to the dashboard and sees those lines,
//! newest first. Then the cookie is put to the test: another resource's page refuses it, a
//! tampered copy is refused, and after signing out a saved copy is refused too. The dashboard's
//! screenshot is saved to `target/artifacts/dashboard.png`, beside the pages that refuse the cookie.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); `CHROMIUM` and
//! `CHROMEDRIVER` name other binaries. Without them the test fails and says so.

mod support;

use std::future::Future;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acme_logs::logplex::{frame, time};
use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::serde_json::{self, json};
use addon_runtime::testing::{Simulator, TestDatabase};
use addon_runtime::Session;
use axum::extract::{Path as UrlPath, State};
use axum::response::Html;
use fantoccini::cookies::Cookie;
use fantoccini::{Client, ClientBuilder, Locator};
use support::*;

/// No single step of the test waits longer than this.
const STEP: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heroku_user_signs_in_and_sees_their_logs_in_chromium() {
    let driver = Chromedriver::start();
    let salt = manifest().api.sso_salt;
    let example = start_example(&TestDatabase::sqlite());
    let heroku = example.heroku.clone();
    let (a, b) = (tenant(&heroku, "pro").await, tenant(&heroku, "basic").await);
    let expected = drain_logs(&heroku.client, &example.origin, &a, &b).await;
    let dashboard = SsoPages::serve(heroku, salt).await;
    let (a, b) = (a.uuid, b.uuid);

    // A short path: Chromium keeps a socket in its profile, and socket paths are short.
    let profile = std::env::temp_dir().join(format!("acme-logs-chromium-{}", std::process::id()));
    let browser = within("starting Chromium through chromedriver", driver.session(&profile)).await;
    // The test runs in a task so that, whatever it asserts, the browser is closed afterwards.
    let outcome =
        tokio::spawn(walk_through(browser.clone(), example.origin.clone(), dashboard, a, b, expected)).await;
    let _ = tokio::time::timeout(STEP, browser.close()).await;
    let _ = std::fs::remove_dir_all(&profile);
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// What the user does and sees, from Heroku's dashboard to signing out.
async fn walk_through(
    browser: Client,
    origin: String,
    dashboard: SsoPages,
    a: String,
    b: String,
    expected: Vec<String>,
) {
    let page_a = format!("{origin}/dashboard/{a}");

    // Heroku's dashboard, on another site, posts the SSO form by script; the add-on redirects.
    within("opening the SSO page", browser.goto(&dashboard.url_for(&a))).await;
    wait_for_url(&browser, &page_a).await;
    let lines = texts(&browser, "tr.line td.message").await;
    assert_eq!(lines, expected, "the drained lines, newest first, and only resource A's");
    assert_eq!(texts(&browser, ".plan").await, ["Pro"], "as shown, capitalised");
    assert!(texts(&browser, ".who").await[0].contains(EMAIL));
    assert_eq!(texts(&browser, "#frames-rejected").await, ["1"]);
    save_screenshot(&browser, "dashboard.png").await;

    // The search box, as a user types into it.
    let search = within("the search box", browser.find(Locator::Css("input[name=q]"))).await;
    within("typing a search", search.send_keys("CHECKOUT")).await;
    within("submitting it", browser.find(Locator::Css("form[role=search] button")))
        .await
        .click()
        .await
        .unwrap();
    wait_for_url(&browser, &format!("{page_a}?q=CHECKOUT")).await;
    let found = texts(&browser, "tr.line td.message").await;
    assert!(!found.is_empty() && found.iter().all(|l| l.to_lowercase().contains("checkout")), "{found:?}");
    assert_eq!(found.len(), expected.iter().filter(|l| l.to_lowercase().contains("checkout")).count());

    // Resource A's cookie does not open resource B's page.
    within("opening B's page", browser.goto(&format!("{origin}/dashboard/{b}"))).await;
    assert!(text(&browser, "#notice").await.contains("belongs to another add-on"));
    save_screenshot(&browser, "another-resource.png").await;
    assert!(!within("the page source", browser.source()).await.contains("resource B's line"));
    assert_eq!(fetch_status(&browser, &format!("/dashboard/{b}"), "text/html").await, 403);

    // A tampered cookie is refused: the browser lands on the signed-out page, programs get 401.
    let genuine = within("the session cookie", browser.get_named_cookie(Session::COOKIE)).await;
    set_session_cookie(&browser, &tamper(genuine.value())).await;
    within("opening A's page", browser.goto(&page_a)).await;
    wait_for_url(&browser, &format!("{origin}/signed-out?reason=not-signed-in")).await;
    assert!(text(&browser, "#notice").await.contains("not signed in"));
    assert_eq!(fetch_status(&browser, &format!("/dashboard/{a}"), "application/json").await, 401);

    // The genuine cookie still works; signing out ends it, and a saved copy stays refused.
    set_session_cookie(&browser, genuine.value()).await;
    within("opening A's page", browser.goto(&page_a)).await;
    wait_for_url(&browser, &page_a).await;
    within("signing out", browser.find(Locator::Id("logout"))).await.click().await.unwrap();
    wait_for_url(&browser, &format!("{origin}/signed-out?reason=signed-out")).await;
    assert!(text(&browser, "#notice").await.contains("You have signed out"));
    save_screenshot(&browser, "signed-out.png").await;
    set_session_cookie(&browser, genuine.value()).await;
    within("opening A's page", browser.goto(&page_a)).await;
    wait_for_url(&browser, &format!("{origin}/signed-out?reason=signed-out")).await;
}

/// Drains a morning of a shop's logs to A, and one line to B; returns A's messages as the
/// dashboard should list them, newest first.
async fn drain_logs(heroku: &reqwest::Client, origin: &str, a: &Tenant, b: &Tenant) -> Vec<String> {
    let now = now_micros();
    let at = |seconds_ago: i64| rfc3339(now - seconds_ago * 1_000_000);
    let lines: Vec<(i64, &str, &str, &str)> = vec![
        (58, "<45>1", "heroku web.1", "State changed from starting to up"),
        (57, "<190>1", "app web.1", "Puma starting in single mode... Listening on http://0.0.0.0:5000"),
        (41, "<158>1", "heroku router", "at=info method=GET path=\"/\" host=shop.herokuapp.com dyno=web.1 connect=0ms service=18ms status=200 bytes=4817"),
        (40, "<190>1", "app web.1", "Started GET \"/products/42\" for 203.0.113.9"),
        (39, "<190>1", "app web.1", "Completed 200 OK in 21ms (Views: 14.2ms | ActiveRecord: 3.1ms)"),
        (25, "<190>1", "app worker.1", "Sent order confirmation to customer #1841"),
        (12, "<158>1", "heroku router", "at=error code=H12 desc=\"Request timeout\" method=POST path=\"/checkout\" dyno=web.1 service=30000ms status=503"),
        (11, "<187>1", "app web.1", "Checkout failed: payment provider timed out after 30s"),
        (3, "<190>1", "app web.1", "Completed 200 OK in 9ms · Caché warmed for “Spring sale”"),
    ];
    let frames: Vec<String> = lines
        .iter()
        .map(|(ago, head, source, text)| frame(&format!("{head} {} host {source} - {text}\n", at(*ago))))
        .collect();
    let post = async |token: &str, frame_id: &str, count: usize, body: String| {
        post_frame(heroku, origin, token, Some(frame_id), Some(count), body).await
    };
    let token = &a.drain_token;
    // Out of order across frames, as dynos' lines arrive; one frame delivered twice; one malformed.
    for (frame_id, range) in [("f-2", 4..9), ("f-1", 0..4), ("f-1", 0..4)] {
        let response = post(token, frame_id, range.len(), frames[range].concat()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let response = post(token, "f-3", 1, "12 not syslog".into()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let other = frame(&format!("<190>1 {} host app web.1 - resource B's line\n", at(1)));
    assert_eq!(post(&b.drain_token, "f-1", 1, other).await.status(), StatusCode::NO_CONTENT);
    lines.iter().rev().map(|(_, _, _, text)| (*text).to_owned()).collect()
}

/// Serves the page Heroku's dashboard shows when a user opens the add-on: a form of hidden
/// fields, posted by script to the add-on's SSO URL. It listens on `localhost`, so the post
/// reaches the add-on (`127.0.0.1`) from another site, as it does from Heroku.
struct SsoPages {
    origin: String,
}

impl SsoPages {
    async fn serve(heroku: Simulator, salt: String) -> SsoPages {
        async fn page(
            State((heroku, salt)): State<(Simulator, String)>,
            UrlPath(uuid): UrlPath<String>,
        ) -> Html<String> {
            Html(heroku.auto_submit_page(&sso_form(&uuid, &salt)))
        }
        let router =
            axum::Router::new().route("/sso/{uuid}", axum::routing::get(page)).with_state((heroku, salt));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, router).await });
        SsoPages { origin }
    }

    fn url_for(&self, uuid: &str) -> String {
        format!("{}/sso/{uuid}", self.origin)
    }
}

/// `chromedriver` on a free port, stopped when the test ends.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = artifacts().join("chromedriver.log");
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start `{binary}` ({e}). The browser test needs Chromium and its WebDriver: \
                     `apt-get install chromium chromium-driver` (Debian), or set CHROMEDRIVER and CHROMIUM \
                     to their paths"
                )
            });
        let driver = Chromedriver { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + STEP;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within {STEP:?}; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// A headless Chromium with a profile of its own. The background-networking flags keep it
    /// from calling home, which a machine without internet access would refuse.
    async fn session(&self, profile: &Path) -> Result<Client, fantoccini::error::NewSessionError> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        assert!(
            Path::new(&chromium).exists(),
            "Chromium is not at {chromium}: `apt-get install chromium chromium-driver`, or set CHROMIUM"
        );
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,1100", format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!("an object literal") };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(capabilities).connect(&self.url).await
    }
}

/// Asks chromedriver to quit, which closes any browser it still runs, then makes sure it is gone.
impl Drop for Chromedriver {
    fn drop(&mut self) {
        let address = self.url.trim_start_matches("http://").to_owned();
        if let Ok(mut stream) = TcpStream::connect(&address) {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
            let _ = stream.write_all(b"GET /shutdown HTTP/1.0\r\n\r\n");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/artifacts/`, where the screenshot and the driver's log go.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves what the browser shows to `target/artifacts/{name}`.
async fn save_screenshot(browser: &Client, name: &str) {
    let png = within("a screenshot", browser.screenshot()).await;
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(artifacts().join(name), png).unwrap();
}

/// Awaits `step`, failing the test if it takes longer than [`STEP`].
async fn within<T, E: std::fmt::Debug>(what: &str, step: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(STEP, step).await {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => panic!("{what} failed: {error:?}"),
        Err(_) => panic!("{what} took longer than {STEP:?}"),
    }
}

async fn wait_for_url(browser: &Client, url: &str) {
    let deadline = Instant::now() + STEP;
    loop {
        let current = within("reading the URL", browser.current_url()).await;
        if current.as_str() == url {
            return;
        }
        assert!(Instant::now() < deadline, "the browser is at {current}, not {url}, after {STEP:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn texts(browser: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in within(css, browser.find_all(Locator::Css(css))).await {
        texts.push(within(css, element.text()).await);
    }
    texts
}

async fn text(browser: &Client, css: &str) -> String {
    let element = within(css, browser.find(Locator::Css(css))).await;
    within(css, element.text()).await
}

/// The status a `fetch` from the page gets: the browser sends its cookies, as it would for
/// the page's own scripts.
async fn fetch_status(browser: &Client, path: &str, accept: &str) -> u64 {
    let script = "return fetch(arguments[0], {headers: {Accept: arguments[1]}, redirect: 'manual'})\
                  .then(r => r.type === 'opaqueredirect' ? 303 : r.status)";
    let status =
        within("a fetch from the page", browser.execute(script, vec![json!(path), json!(accept)])).await;
    status.as_u64().unwrap_or_else(|| panic!("fetch answered {status}"))
}

/// Replaces the browser's session cookie, as someone editing it would.
async fn set_session_cookie(browser: &Client, value: &str) {
    within("deleting the cookie", browser.delete_cookie(Session::COOKIE)).await;
    // As the add-on sets it; WebDriver wants the domain spelled out, and refuses SameSite=None
    // without Secure.
    let cookie = format!("{}={value}; Domain=127.0.0.1; Path=/; SameSite=Lax; HttpOnly", Session::COOKIE);
    let cookie = Cookie::parse(cookie).expect("a well-formed cookie");
    within("setting the cookie", browser.add_cookie(cookie)).await;
}

/// The cookie with one character of its signed payload changed.
fn tamper(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[8] = if chars[8] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn rfc3339(micros: i64) -> String {
    format!("{}+00:00", time::format_utc(micros).replace(' ', "T"))
}

fn now_micros() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_micros()).unwrap()
}
