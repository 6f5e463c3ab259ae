//! `osb(...)`: every setting, a plan slug with `-` given as a string.

use addon_runtime::prelude::*;

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"],
    plans = ["hobby", "pro-2"],
    production = "https://logs.acme.example",
    osb(
        service_id = "6c1b9a52-3f0e-4d6b-8a7c-2e9f1d4b5a60",
        description = "Logs for every app",
        bindable = false,
        plan_ids(hobby = "0b5e7c3a-9d21-4f68-b1a4-7e2c8d9f0a13", "pro-2" = "1c6f8d4b-0e32-4a79-82b5-8f3d9e0a1b24"),
    ),
)]
impl Logs {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn change_plan(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

fn main() {
    use addon_runtime::Addon;
    let service = Logs::SPEC.osb.expect("osb(...) is part of the declaration");
    assert_eq!(service.service_id, "6c1b9a52-3f0e-4d6b-8a7c-2e9f1d4b5a60");
    assert!(!service.bindable);
    assert_eq!(service.given_plan_id("pro-2"), Some("1c6f8d4b-0e32-4a79-82b5-8f3d9e0a1b24"));
}
