//! `cargo check` of a crate that uses `#[heroku_addon]` writes its `addon-manifest.json`, keeps it
//! in step with the attribute, restores it when deleted, and never takes secrets from source.
//!
//! The probe crate is built by a real cargo, in its own target directory under the workspace's
//! `target/`, so later runs reuse its compiled dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use addon_runtime::Manifest;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

struct Probe {
    dir: PathBuf,
    target: PathBuf,
}

impl Probe {
    fn new() -> Self {
        let root = workspace();
        let dir = root.join("target").join("manifest-probe").join("crate");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let runtime = root.join("addon-runtime");
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"manifest-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\naddon-runtime = {{ path = {:?} }}\n\n[workspace]\n",
                runtime.to_str().unwrap()
            ),
        )
        .unwrap();
        // The workspace's lock file pins the same versions, so the probe resolves offline.
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let target = root.join("target").join("manifest-probe").join("target");
        Probe { dir, target }
    }

    fn write_source(&self, name: &str) {
        let source = format!(
            r#"use addon_runtime::prelude::*;

pub struct Probe;

#[heroku_addon(id = "manifest-probe", name = "{name}", config_vars = ["MANIFEST_PROBE_URL"], plans = ["basic"], production = "https://probe.example", port = 5111)]
impl Probe {{
    #[provision]
    async fn provision(&self, _r: ProvisionRequest) -> Result<Provisioned, AddonError> {{
        Ok(Provisioned::new(Config::new().set(Self::MANIFEST_PROBE_URL, "https://probe.example/1")))
    }}
    #[plan_change]
    async fn plan_change(&self, _r: PlanChangeRequest) -> Result<PlanChanged, AddonError> {{
        Ok(PlanChanged::new())
    }}
    #[deprovision]
    async fn deprovision(&self, _r: DeprovisionRequest) -> Result<(), AddonError> {{
        Ok(())
    }}
}}
"#
        );
        std::fs::write(self.dir.join("src/lib.rs"), source).unwrap();
    }

    /// `cargo check`, with `ADDON_PASSWORD` set or not.
    fn check(&self, password: Option<&str>) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .args(["check", "--offline", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("ADDON_SSO_SALT")
            .env_remove("ADDON_PASSWORD");
        if let Some(password) = password {
            command.env("ADDON_PASSWORD", password);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "cargo check failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("addon-manifest.json")
    }

    fn manifest(&self) -> Manifest {
        Manifest::from_json(&std::fs::read_to_string(self.manifest_path()).unwrap()).unwrap()
    }

    fn modified(&self) -> SystemTime {
        std::fs::metadata(self.manifest_path()).unwrap().modified().unwrap()
    }

    /// Stamps the manifest with a time long past, so a rewrite shows whatever the file system's
    /// timestamp granularity.
    fn backdate(&self) -> SystemTime {
        let past = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        let file = std::fs::OpenOptions::new().write(true).open(self.manifest_path()).unwrap();
        file.set_modified(past).unwrap();
        past
    }
}

#[test]
fn the_build_writes_restores_and_updates_the_manifest() {
    let probe = Probe::new();
    probe.write_source("Probe One");

    // Written on the first build, with the password from the environment and a generated salt.
    probe.check(Some("password-from-the-build-env"));
    let first = probe.manifest();
    assert!(first.problems().is_empty(), "{:?}", first.problems());
    assert_eq!(first.name, "Probe One");
    assert_eq!(first.api.password, "password-from-the-build-env");
    assert_eq!(first.api.sso_salt.len(), 32);
    assert!(first.api.sso_salt.chars().all(|c| c.is_ascii_alphanumeric()));
    let test = first.api.test.as_ref().unwrap();
    assert_eq!(test.base_url, "http://127.0.0.1:5111/heroku/resources");
    assert_eq!(first.api.production.sso_url, "https://probe.example/sso/login");

    // Rebuilt (the source is touched, so the macro runs again) without change: the file is
    // not rewritten.
    let stamp = probe.backdate();
    probe.write_source("Probe One");
    probe.check(Some("password-from-the-build-env"));
    assert_eq!(probe.modified(), stamp, "an unchanged manifest keeps its modification time");

    // Deleted: the next build brings it back (new salt, since the old one was deleted with it).
    std::fs::remove_file(probe.manifest_path()).unwrap();
    probe.check(Some("password-from-the-build-env"));
    let restored = probe.manifest();
    assert_eq!(restored.api.password, "password-from-the-build-env");
    assert_ne!(restored.api.sso_salt, first.api.sso_salt);

    // The attribute changes: the manifest follows, and keeps its secrets; with the variable
    // gone from the environment the password is kept from the file.
    probe.write_source("Probe Two");
    probe.check(None);
    let updated = probe.manifest();
    assert_eq!(updated.name, "Probe Two");
    assert_eq!(updated.api.password, "password-from-the-build-env");
    assert_eq!(updated.api.sso_salt, restored.api.sso_salt);
}
