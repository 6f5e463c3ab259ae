//! Start-up configuration: secrets from the environment or, in development, the manifest the
//! build wrote; production refuses to start without them.

use std::collections::HashMap;
use std::sync::Arc;

use addon_runtime::{AddonSpec, App, Error, Mode, Settings};
use addon_tests::hand_written::Plain;
use addon_tests::TestAddon;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

fn config_error(result: Result<Settings, Error>) -> String {
    match result {
        Err(Error::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn production_refuses_to_start_without_secrets_from_the_environment() {
    let message = config_error(Settings::from_vars::<TestAddon>(vars(&[("ADDON_ENV", "production")])));
    assert!(message.contains("ADDON_PASSWORD") && message.contains("ADDON_SSO_SALT"), "{message}");

    // Even with a manifest on disk: production secrets never come from a file in the build tree.
    let only_password = vars(&[("ADDON_ENV", "production"), ("ADDON_PASSWORD", "p4ssw0rd-long-enough")]);
    config_error(Settings::from_vars::<TestAddon>(only_password));

    let placeholder = vars(&[
        ("ADDON_ENV", "production"),
        ("ADDON_PASSWORD", "CHANGEME"),
        ("ADDON_SSO_SALT", "salt-1234567890"),
    ]);
    assert!(config_error(Settings::from_vars::<TestAddon>(placeholder)).contains("placeholder"));

    let full = vars(&[
        ("ADDON_ENV", "production"),
        ("ADDON_PASSWORD", "p4ssw0rd"),
        ("ADDON_SSO_SALT", "s4lt"),
        ("ADDON_SESSION_KEY", "a-session-key-of-32-characters-at-least"),
    ]);
    let settings = Settings::from_vars::<TestAddon>(full).unwrap();
    assert_eq!(settings.mode(), Mode::Production);
    assert_eq!(settings.public_url::<TestAddon>(), "https://test-addon.example");
}

#[test]
fn development_falls_back_to_the_manifest_the_build_wrote() {
    // Building this crate ran the macro, which wrote the manifest beside tests/Cargo.toml.
    let path = <TestAddon as addon_runtime::Addon>::SPEC
        .manifest_path
        .expect("the macro records where it wrote the manifest");
    let manifest = addon_runtime::Manifest::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(manifest.id, "test-addon");
    assert_eq!(manifest.api.password.len(), 32);
    assert!(manifest.problems().is_empty(), "{:?}", manifest.problems());

    let settings = Settings::from_vars::<TestAddon>(vars(&[("PORT", "6001")])).unwrap();
    assert_eq!(settings.mode(), Mode::Development);
    assert_eq!(settings.public_url::<TestAddon>(), "http://127.0.0.1:6001");
    let debug = format!("{settings:?}");
    assert!(!debug.contains(&manifest.api.password) && !debug.contains(&manifest.api.sso_salt), "{debug}");

    // The environment wins over the file.
    let settings = Settings::from_vars::<TestAddon>(vars(&[
        ("ADDON_PASSWORD", "from-env"),
        ("ADDON_SSO_SALT", "salt-env"),
    ]));
    assert!(settings.is_ok());
}

#[test]
fn development_without_any_manifest_says_what_to_do() {
    let message = config_error(Settings::from_vars::<Plain>(vars(&[])));
    assert!(message.contains("ADDON_PASSWORD") && message.contains("ADDON_MANIFEST"), "{message}");
    let message = config_error(Settings::from_vars::<Plain>(vars(&[(
        "ADDON_MANIFEST",
        "/nonexistent/addon-manifest.json",
    )])));
    assert!(message.contains("could not read"), "{message}");
}

#[test]
fn malformed_settings_are_refused_with_their_name() {
    let secrets = [("ADDON_PASSWORD", "p"), ("ADDON_SSO_SALT", "s")];
    for (name, value) in [
        ("ADDON_ENV", "staging"),
        ("PORT", "eighty"),
        ("ADDON_SSO_WINDOW", "-1"),
        ("ADDON_SSO_USER_SCOPED_TOKEN", "maybe"),
        ("ADDON_SSO_SINGLE_USE", "sometimes"),
        ("ADDON_SESSION_KEY", "short"),
    ] {
        let mut pairs = secrets.to_vec();
        pairs.push((name, value));
        let message = config_error(Settings::from_vars::<TestAddon>(vars(&pairs)));
        assert!(message.contains(name), "{name}: {message}");
    }
}

#[test]
fn sign_in_policies_are_read_from_the_environment() {
    let settings = Settings::from_vars::<TestAddon>(vars(&[
        ("ADDON_SSO_USER_SCOPED_TOKEN", "require"),
        ("ADDON_SSO_SINGLE_USE", "true"),
    ]))
    .unwrap();
    let shown = format!("{settings:?}");
    assert!(
        shown.contains("user_scoped_token: Require") && shown.contains("sso_single_use: true"),
        "{shown}"
    );
}

/// A hand-written `Addon` whose declaration breaks the manifest rules.
struct Broken;

impl addon_runtime::Addon for Broken {
    const SPEC: AddonSpec = AddonSpec::new("Broken Addon", "", "http://broken.example/api")
        .config_vars(&["url"])
        .plans(&["Gold"]);

    async fn provision(
        &self,
        _: addon_runtime::ProvisionRequest,
    ) -> Result<addon_runtime::Provisioned, addon_runtime::AddonError> {
        Err(addon_runtime::AddonError::new("never"))
    }

    async fn plan_change(
        &self,
        _: addon_runtime::PlanChangeRequest,
    ) -> Result<addon_runtime::PlanChanged, addon_runtime::AddonError> {
        Err(addon_runtime::AddonError::new("never"))
    }

    async fn deprovision(
        &self,
        _: addon_runtime::DeprovisionRequest,
    ) -> Result<addon_runtime::Deprovisioned, addon_runtime::AddonError> {
        Ok(addon_runtime::Deprovisioned::now())
    }
}

#[tokio::test]
async fn a_hand_written_addon_that_breaks_the_manifest_rules_does_not_start() {
    let database = addon_runtime::testing::TestDatabase::sqlite();
    let Err(Error::Manifest(problems)) =
        App::new(Arc::new(Broken), Settings::development("p", "s"), database.store().await)
    else {
        panic!("a broken declaration must be refused");
    };
    let fields: Vec<String> = problems.iter().map(|p| p.field.to_string()).collect();
    assert_eq!(fields, ["id", "name", "api.config_vars[0]", "production", "plans[0]"]);
    let shown = Error::Manifest(problems).to_string();
    assert!(shown.contains("must start with a lower-case letter"), "{shown}");
}
