// Each declared config var becomes an associated `ConfigVar` constant, each plan a `Plan`
// constant, and `Addon::SPEC` holds the declared values.
use addon_runtime::prelude::*;

struct Acme;

#[heroku_addon(
    id = "acme",
    name = "Acme",
    config_vars = ["ACME_URL", "ACME_API_KEY"], plans = ["basic", "pro-2"],
    regions = ["eu", "frankfurt"],
    production = "https://acme.example:8443",
)]
impl Acme {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let config = Config::new()
            .set(
                Self::ACME_URL,
                format!("https://acme.example/{}", request.uuid),
            )
            .set(Self::ACME_API_KEY, "key");
        Ok(Provisioned::new(config))
    }

    #[plan_change]
    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        if request.plan == Self::PRO_2 && request.previous_plan == Self::BASIC {
            return Ok(PlanChanged::new().with_message(format!("Now on {}.", request.plan.as_str())));
        }
        Ok(PlanChanged::new().with_config(Config::new().set(Self::ACME_API_KEY, "new-key")))
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

const URL: ConfigVar = Acme::ACME_URL;

fn main() {
    assert_eq!(URL.name(), "ACME_URL");
    assert_eq!(Acme::ACME_API_KEY.name(), "ACME_API_KEY");
    let config = Config::new().set(Acme::ACME_URL, "https://acme.example/x");
    assert_eq!(config.get(URL), Some("https://acme.example/x"));

    let spec = <Acme as addon_runtime::Addon>::SPEC;
    assert_eq!(spec.id, "acme");
    assert_eq!(spec.name, "Acme");
    assert_eq!(spec.config_vars, ["ACME_URL", "ACME_API_KEY"]);
    assert_eq!(spec.plans, ["basic", "pro-2"]);
    let plan: addon_runtime::Plan = Acme::PRO_2;
    assert_eq!(plan, "pro-2");
    assert_eq!(Acme::BASIC.as_str(), "basic");
    assert!(ProvisionRequest::new("res-1", "pro-2").plan == Acme::PRO_2);
    assert_eq!(spec.regions, ["eu", "frankfurt"]);
    assert_eq!(spec.production, "https://acme.example:8443");
    assert_eq!(spec.port, 5000);
    assert!(spec
        .manifest_path
        .is_some_and(|p| p.ends_with("addon-manifest.json")));
    assert!(spec.problems().is_empty());
}
