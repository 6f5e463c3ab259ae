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
}

#[test]
fn help_shows_the_verbs_flags_and_defaults() {
    let (code, out, _) = run_both(&["--help"]);
    assert_eq!(code, 0, "{out}");
    for text in ["check", "manifest", "sso", "--manifest", "--plans", "--allow-remote", "`test`"] {
        assert!(out.contains(text), "`{text}` missing from:\n{out}");
    }

    let (code, out, _) = run_both(&["check", "--help"]);
    assert_eq!(code, 0, "{out}");
    for text in [
        "--manifest <FILE>",
        "--url <URL>",
        "--plans <A,B>",
        "[default: test]",
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
