//! The command line's other two verbs: `manifest` explains a manifest's problems, `sso` prints
//! the page that signs a user in as Heroku's dashboard does.

use std::process::Command;

use addon_testing::sha256_hex;

fn manifest(id: &str, version: &str) -> String {
    serde_json::json!({
        "id": id, "name": "Probe",
        "api": {
            "config_vars": ["PROBE_URL"], "password": "p4ssword-p4ssword", "sso_salt": "s4lt-s4lt-s4lt",
            "regions": ["us"], "requires": [], "version": version,
            "production": {"base_url": "https://probe.example/heroku/resources", "sso_url": "https://probe.example/sso/login"},
            "test": {"base_url": "http://127.0.0.1:5000/heroku/resources", "sso_url": "http://127.0.0.1:5000/sso/login"}
        }
    })
    .to_string()
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_addon-check")).args(args).output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn manifest_explains_every_problem() {
    let good = write("good-manifest.json", &manifest("probe", "3"));
    let (code, out) = run(&["manifest", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("obeys every rule"));

    let bad = write("bad-manifest.json", &manifest("Probe Addon", "1"));
    let (code, out) = run(&["manifest", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("id: the add-on id `Probe Addon` must start with a lower-case letter"), "{out}");
    assert!(out.contains("api.version"), "{out}");
    assert!(out.contains("2 problems"), "{out}");
}

#[test]
fn sso_prints_a_page_that_signs_in() {
    let path = write("sso-manifest.json", &manifest("probe", "3"));
    let uuid = "01234567-89ab-cdef-0123-456789abcdef";
    let (code, page) = run(&["sso", uuid, "--manifest", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(page.contains("<form method=\"POST\" action=\"http://127.0.0.1:5000/sso/login\">"), "{page}");
    assert!(page.contains("document.forms[0].submit()"));
    let field = |name: &str| {
        let start = page.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
        page[start..].split('"').next().unwrap().to_owned()
    };
    let (ts, user, email) = (field("timestamp"), field("user_id"), field("email"));
    let expected = sha256_hex(&format!("{uuid}:s4lt-s4lt-s4lt:{ts}:{user}:{email}"));
    assert_eq!(field("user_scoped_resource_token"), expected);
    assert_eq!(field("resource_id"), uuid);
}

#[test]
fn bad_usage_says_how() {
    let (code, _) = run(&["nonsense"]);
    assert_eq!(code, 2);
    let path = write("remote-manifest.json", &manifest("probe", "3"));
    let (code, out) = run(&["check", "--manifest", path.to_str().unwrap(), "--url", "https://probe.example"]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL  manifest.test_urls") && out.contains("--allow-remote"), "{out}");

    // The same report for machines.
    let (code, out) =
        run(&["check", "--manifest", path.to_str().unwrap(), "--url", "https://probe.example", "--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    let outcomes = report["outcomes"].as_array().unwrap();
    let refused = outcomes.iter().find(|o| o["check"] == "manifest.test_urls").unwrap();
    assert_eq!(refused["status"], "fail");
    assert!(refused["fix"].as_str().unwrap().contains("--allow-remote"));
}

/// The run of the binary and what it printed on each stream.
fn run_both(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_addon-check")).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_url_with_userinfo_is_refused_before_any_request() {
    let path = write("userinfo-manifest.json", &manifest("probe", "3"));
    // Anything the checker sent would arrive here; the user name and password `localhost:x`
    // are what hid a remote host behind a loopback-looking start.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://localhost:x@{}", listener.local_addr().unwrap());
    let (code, out, err) = run_both(&["check", "--manifest", path.to_str().unwrap(), "--url", &url]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("user name or password"), "{err}");
    assert!(!out.contains("PASS") && !out.contains("FAIL"), "no check ran: {out}");
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a request was sent: {accepted:?}"
    );
}

#[test]
fn sso_serve_answers_only_loopback_host_headers() {
    use std::io::{Read, Write};
    let path = write("serve-manifest.json", &manifest("probe", "3"));
    let uuid = "01234567-89ab-cdef-0123-456789abcdef";
    let (_server, line) = addon_testing::Process::start(
        Command::new(env!("CARGO_BIN_EXE_addon-check")).args([
            "sso",
            uuid,
            "--manifest",
            path.to_str().unwrap(),
            "--serve",
        ]),
        "open http://",
        std::time::Duration::from_secs(10),
    );
    let address = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let port = address.rsplit(':').next().unwrap().to_owned();
    let ask = |host: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")] {
        let answer = ask(&host);
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
        assert!(answer.contains("document.forms[0].submit()"), "{host}: {answer}");
    }
    // A name that resolves here only through DNS rebinding.
    for host in [format!("rebind.example:{port}"), format!("127.0.0.1.nip.io:{port}")] {
        let answer = ask(&host);
        assert!(answer.starts_with("HTTP/1.1 421"), "{host}: {answer}");
        assert!(!answer.contains("<form"), "{host}: {answer}");
        assert!(answer.contains("loopback"), "{host}: {answer}");
    }
    // A loopback name with another port, or no `Host` at all, is not this page's address.
    let other_port = format!("127.0.0.1:{}", port.parse::<u16>().unwrap().wrapping_add(1));
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(stream, "GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut no_host = String::new();
    stream.read_to_string(&mut no_host).unwrap();
    for answer in [ask(&other_port), no_host] {
        assert!(answer.starts_with("HTTP/1.1 421") && !answer.contains("<form"), "{answer}");
    }
}

#[test]
fn help_shows_the_verbs_flags_and_defaults() {
    let (code, out, _) = run_both(&["--help"]);
    assert_eq!(code, 0, "{out}");
    for text in
        ["check", "manifest", "sso", "--manifest", "--plans", "--allow-remote", "addon-check-no-such-plan"]
    {
        assert!(out.contains(text), "`{text}` missing from:\n{out}");
    }

    let (code, out, _) = run_both(&["check", "--help"]);
    assert_eq!(code, 0, "{out}");
    for text in [
        "--manifest <FILE>",
        "--url <URL>",
        "--plans <A,B>",
        "addon-check-no-such-plan",
        "--progress <WHEN>",
        "--color <WHEN>",
        "[default: auto]",
        "[possible values: auto, always, never]",
        "--heroku-port <PORT>",
        "--oauth-secret <SECRET>",
        "[default: addon-check-client-secret]",
        "--allow-remote",
        "--json",
    ] {
        assert!(out.contains(text), "`{text}` missing from:\n{out}");
    }

    for verb in ["manifest", "sso"] {
        let (code, out, _) = run_both(&[verb, "--help"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(&format!("Usage: addon-check {verb}")), "{out}");
    }
    let (_, out, _) = run_both(&["sso", "--help"]);
    assert!(out.contains("--serve") && out.contains("<RESOURCE_ID>"), "{out}");
}

#[test]
fn a_wrong_flag_is_a_usage_error() {
    let path = write("flag-manifest.json", &manifest("probe", "3"));
    let (code, out, err) = run_both(&["check", "--manifest", path.to_str().unwrap(), "--bogus"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("unexpected argument '--bogus'") && err.contains("Usage: addon-check check"),
        "{err}"
    );

    let (code, _, err) = run_both(&["check", "--manifest", path.to_str().unwrap(), "--heroku-port", "many"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--heroku-port"), "{err}");

    let (code, _, err) = run_both(&["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--manifest <FILE>"), "{err}");
}

#[test]
fn the_report_has_no_colour_when_not_at_a_terminal() {
    let path = write("plain-manifest.json", &manifest("probe", "3"));
    let (code, out, err) =
        run_both(&["check", "--manifest", path.to_str().unwrap(), "--url", "http://203.0.113.9:5401"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("FAIL  manifest.test_urls"), "{out}");
    assert!(out.contains("203.0.113.9"), "{out}");
    assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}'), "{out}{err}");
}

/// A stand-in add-on for runs of the real binary: provisions anything, signs anyone in with a
/// redirect to `location` (`{port}` replaced by its own port) and a session cookie, and counts
/// the requests it gets and the dashboard visits that carried the cookie.
struct Probe {
    port: u16,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    dashboards_with_cookie: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

async fn start_probe(bind: &str, location: &str) -> Probe {
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let dashboards_with_cookie = Arc::new(AtomicUsize::new(0));
    let location = location.replace("{port}", &port.to_string());
    let seen = dashboards_with_cookie.clone();
    let router = axum::Router::new()
        .route(
            "/heroku/resources",
            axum::routing::post(|body: axum::body::Bytes| async move {
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let config = serde_json::json!({"PROBE_URL": "https://probe.example/r"});
                axum::Json(serde_json::json!({"id": request["uuid"], "config": config}))
            }),
        )
        .route(
            "/sso/login",
            axum::routing::post(move || {
                let location = location.clone();
                async move {
                    (
                        StatusCode::SEE_OTHER,
                        [
                            (header::LOCATION, location),
                            (header::SET_COOKIE, "session=s3cret; HttpOnly".to_owned()),
                        ],
                    )
                }
            }),
        )
        .route(
            "/dashboard",
            axum::routing::get(move |headers: HeaderMap| async move {
                if headers.get(header::COOKIE).is_some_and(|c| c.as_bytes().starts_with(b"session=s3cret")) {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                "dashboard"
            }),
        )
        .fallback(|| async {
            (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({"message": "no"}))).into_response()
        })
        .layer(axum::middleware::from_fn({
            let requests = requests.clone();
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                requests.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            }
        }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Probe { port, requests, dashboards_with_cookie }
}

/// Runs `addon-check check` on a thread of its own, so the probe keeps answering meanwhile.
async fn check_binary(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_both(&args)
    })
    .await
    .unwrap()
}

fn line_of<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines().find(|l| l.contains(check)).unwrap_or_else(|| panic!("no `{check}` in:\n{out}"))
}

/// `0.0.0.0` is not a loopback address, yet a connection to it reaches this machine: a probe
/// listening on every interface shows whether the checker connected. Without `--allow-remote`
/// it refuses before connecting; with it, it connects. (A remote address would prove the same
/// refusal, but a regression would then send traffic off this machine.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_literal_non_loopback_address_is_refused_before_any_connection_unless_allowed() {
    use std::sync::atomic::Ordering;
    let probe = start_probe("0.0.0.0:0", "/dashboard").await;
    let path = write("literal-manifest.json", &manifest("probe", "3"));
    let url = format!("http://0.0.0.0:{}", probe.port);
    let base =
        vec!["check".to_owned(), "--manifest".into(), path.to_str().unwrap().into(), "--url".into(), url];

    let (code, out, err) = check_binary(base.clone()).await;
    assert_eq!(code, 1, "{out}{err}");
    let refusal = line_of(&out, "manifest.test_urls");
    assert!(refusal.starts_with("FAIL") && refusal.contains("not on this machine"), "{refusal}");
    assert!(refusal.contains("resolves to 0.0.0.0"), "{refusal}");
    assert!(out.contains("--allow-remote"), "the fix names the flag: {out}");
    assert!(!out.contains("auth.") && !out.contains("provision."), "no check ran: {out}");
    assert_eq!(probe.requests.load(Ordering::SeqCst), 0, "the checker connected");

    let mut allowed = base;
    allowed.push("--allow-remote".into());
    let (_, out, err) = check_binary(allowed).await;
    assert!(line_of(&out, "manifest.test_urls").starts_with("PASS"), "{out}{err}");
    assert!(line_of(&out, "manifest.test_urls").contains("--allow-remote"), "{out}");
    assert!(out.contains("provision.v3"), "{out}");
    assert!(probe.requests.load(Ordering::SeqCst) > 0, "with --allow-remote the checker connects");
}

#[test]
fn a_host_that_does_not_resolve_is_refused_with_a_clear_message() {
    let path = write("unresolved-manifest.json", &manifest("probe", "3"));
    let url = "http://no-such-addon.addon-check.invalid:5401";
    let (code, out, err) = run_both(&["check", "--manifest", path.to_str().unwrap(), "--url", url]);
    assert_eq!(code, 1, "{out}{err}");
    let refusal = line_of(&out, "manifest.test_urls");
    assert!(refusal.starts_with("FAIL"), "{refusal}");
    assert!(
        refusal.contains("`no-such-addon.addon-check.invalid` does not resolve"),
        "the message names the host and says why: {refusal}"
    );
    assert!(!out.contains("provision."), "no check ran: {out}");
}

/// After a sign-in, the checker follows the `Location` with the session cookie only within the
/// origin the form was posted to: the same scheme, the same host as written and the same port.
/// `localhost` is another host than `127.0.0.1` (a name that could resolve anywhere), and
/// another port is another server, even on this machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sign_in_the_cookie_goes_only_to_the_same_origin() {
    use std::sync::atomic::Ordering;
    let path = write("redirect-manifest.json", &manifest("probe", "3"));
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let other_port = elsewhere.local_addr().unwrap().port();

    for (location, followed) in [
        ("/dashboard".to_owned(), true),
        ("http://127.0.0.1:{port}/dashboard".to_owned(), true),
        ("http://localhost:{port}/dashboard".to_owned(), false),
        (format!("http://127.0.0.1:{other_port}/dashboard"), false),
        ("//localhost:{port}/dashboard".to_owned(), false),
    ] {
        let probe = start_probe("127.0.0.1:0", &location).await;
        let url = format!("http://127.0.0.1:{}", probe.port);
        // The probe provisions any plan and lists none, so it needs --plans.
        let args = ["check", "--manifest", path.to_str().unwrap(), "--url", &url, "--plans", "test"]
            .map(str::to_owned)
            .to_vec();
        let (_, out, err) = check_binary(args).await;
        let landing = line_of(&out, "sso.landing");
        let visits = probe.dashboards_with_cookie.load(Ordering::SeqCst);
        if followed {
            assert!(landing.starts_with("PASS"), "{location}: {landing}\n{out}{err}");
            assert_eq!(visits, 1, "{location}: the dashboard got the cookie");
        } else {
            assert!(
                landing.starts_with("FAIL") && landing.contains("another origin"),
                "{location}: {landing}"
            );
            assert!(landing.contains("the session cookie was not sent there"), "{location}: {landing}");
            assert_eq!(visits, 0, "{location}: the cookie was sent");
        }
    }
    let accepted = elsewhere.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the checker connected to the other port: {accepted:?}"
    );
}

#[test]
fn the_digitalocean_mode_names_the_secrets_it_needs() {
    let path = write("do-manifest.json", &manifest("probe", "3"));
    let output = Command::new(env!("CARGO_BIN_EXE_addon-check"))
        .args(["check", "--manifest", path.to_str().unwrap(), "--marketplace", "digitalocean"])
        .env_remove("ADDON_DO_PASSWORD")
        .env_remove("ADDON_DO_SSO_SALT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ADDON_DO_PASSWORD") && stderr.contains("vendor portal"), "{stderr}");
    let (code, help) = run(&["check", "--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("--marketplace") && help.contains("digitalocean") && help.contains("--do-base-path"),
        "{help}"
    );
}
