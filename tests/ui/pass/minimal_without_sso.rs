// Only the required keys and handlers: `sso` falls back to the trait's default (`/`), and the
// optional keys to theirs.
use addon_runtime::prelude::*;
use addon_runtime::TokenKind;

struct Cache;

#[heroku_addon(
    id = "acme-cache",
    name = "Acme Cache",
    config_vars = ["ACME_CACHE_URL"], plans = ["basic", "pro"],
    production = "https://cache.acme.example",
)]
impl Cache {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn plan_change(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let spec = <Cache as Addon>::SPEC;
    assert_eq!(spec.id, "acme-cache");
    assert_eq!(spec.regions, ["us"]);
    assert!(spec.requires.is_empty());
    assert_eq!(spec.config_vars_prefix, None);
    assert_eq!(spec.base_path, "/heroku/resources");
    assert_eq!(spec.sso_path, "/sso/login");
    assert_eq!(spec.port, 5000);

    let redirect = Addon::sso(&Cache, SsoLogin::new("res-1", "basic", TokenKind::Resource))
        .await
        .expect("the default sso succeeds");
    assert_eq!(redirect.location(), "/");
}
