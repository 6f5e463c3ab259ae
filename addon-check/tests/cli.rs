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
