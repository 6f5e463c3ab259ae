use addon_runtime::prelude::*;

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    production = "https://logs.acme.example",
)]
impl Logs {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let uuid = std::rc::Rc::new(request.uuid);
        std::future::ready(()).await;
        Ok(Provisioned::new(Config::new().set(
            Self::ACME_LOGS_URL,
            format!("https://logs.acme.example/{uuid}"),
        )))
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
