// `crate = "..."` names the runtime when the vendor's crate knows it by another name: the
// expansion then reaches everything through `renamed::__private`. (Cargo refuses one package
// under two names in one crate, so the rename is an `extern crate`; that the expansion names
// no other root is asserted on the tokens in `addon-macros`' unit tests.)
extern crate addon_runtime as renamed;

use renamed::prelude::*;

struct Renamed;

#[heroku_addon(
    crate = "renamed",
    id = "acme-renamed",
    name = "Acme Renamed",
    config_vars = ["ACME_RENAMED_URL"], plans = ["basic", "pro"],
    production = "https://renamed.acme.example",
)]
impl Renamed {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let url = format!("https://renamed.acme.example/{}", request.uuid);
        Ok(Provisioned::new(Config::new().set(Self::ACME_RENAMED_URL, url)))
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

fn main() {
    let spec = <Renamed as renamed::Addon>::SPEC;
    assert_eq!(spec.id, "acme-renamed");
    assert_eq!(Renamed::ACME_RENAMED_URL.name(), "ACME_RENAMED_URL");
}
