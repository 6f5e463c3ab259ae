// Every key and all four handlers; the handlers are reached through the `Addon` trait.
use addon_runtime::prelude::*;
use addon_runtime::{Requirement, TokenKind};

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_URL", "ACME_TOKEN"], plans = ["basic", "pro"],
    config_vars_prefix = "ACME",
    api_key = "ACME_TOKEN",
    regions = ["us", "eu"],
    requires = ["syslog_drain", "attachable"],
    production = "https://logs.acme.example",
    base_path = "/heroku/resources",
    sso_path = "/heroku/sso",
    port = 5050,
    manifest = "full-addon-manifest.json",
)]
impl Logs {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let config = Config::new()
            .set(
                Self::ACME_URL,
                format!("https://logs.acme.example/{}", request.uuid),
            )
            .set(Self::ACME_TOKEN, "token");
        Ok(Provisioned::new(config))
    }

    #[plan_change]
    async fn change_plan(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        if request.plan == "gold" {
            return Err(AddonError::new("Acme Logs has no `gold` plan."));
        }
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }

    #[sso]
    async fn sign_in(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        Ok(SsoRedirect::to(format!("/dashboard/{}", login.uuid)))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let spec = <Logs as Addon>::SPEC;
    assert_eq!(spec.id, "acme-logs");
    assert_eq!(spec.name, "Acme Logs");
    assert_eq!(spec.config_vars, ["ACME_URL", "ACME_TOKEN"]);
    assert_eq!(spec.config_vars_prefix, Some("ACME"));
    assert_eq!(spec.api_key, Some("ACME_TOKEN"));
    assert_eq!(spec.regions, ["us", "eu"]);
    assert_eq!(
        spec.requires,
        [Requirement::SyslogDrain, Requirement::Attachable]
    );
    assert_eq!(spec.production, "https://logs.acme.example");
    assert_eq!(spec.base_path, "/heroku/resources");
    assert_eq!(spec.sso_path, "/heroku/sso");
    assert_eq!(spec.port, 5050);

    // The manifest was written while this file compiled, where `manifest = "..."` said.
    let path = spec.manifest_path.expect("`manifest = ...` sets the path");
    assert!(path.ends_with("full-addon-manifest.json"), "{path}");
    let manifest = std::fs::read_to_string(path).expect("the build wrote the manifest");
    assert!(manifest.contains("\"acme-logs\""), "{manifest}");
    assert!(
        manifest.contains("https://logs.acme.example/heroku/sso"),
        "{manifest}"
    );

    let logs = Logs;
    assert!(logs
        .provision(ProvisionRequest::new("res-1", "basic"))
        .await
        .is_ok());
    let refused = Addon::plan_change(&logs, PlanChangeRequest::new("res-1", "gold", "basic"))
        .await
        .expect_err("no gold plan");
    assert_eq!(refused.status().as_u16(), 422);
    assert!(
        Addon::deprovision(&logs, DeprovisionRequest::new("res-1", "basic"))
            .await
            .is_ok()
    );
    let redirect = Addon::sso(&logs, SsoLogin::new("res-1", "basic", TokenKind::Resource))
        .await
        .expect("sso succeeds");
    assert_eq!(redirect.location(), "/dashboard/res-1");
}
