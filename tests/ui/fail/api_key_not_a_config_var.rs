use addon_runtime::prelude::*;

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL", "ACME_LOGS_TOKEN"], plans = ["basic", "pro"],
    api_key = "ACME_LOGS_KEY",
    production = "https://logs.acme.example",
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

fn main() {}
