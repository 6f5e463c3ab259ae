// Three unrelated mistakes: an id that is not a slug, a typo in a key, and a handler that is not
// `async`. All three are reported in one build, and `main` has no error: the impl is still
// emitted, so `Logs::tenants` and the config var constant resolve, and `Logs` is still an `Addon`.
//
// Known macro problem, kept visible here: the bad id also yields a fourth error on the config
// var, because the default prefix is derived from the invalid id (`ACME LOGS_`). Regenerate the
// `.stderr` once the macro stops checking config vars against a prefix taken from a bad id.
use addon_runtime::prelude::*;

struct Logs;

#[heroku_addon(
    id = "Acme Logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    region = ["us"],
    production = "https://logs.acme.example",
)]
impl Logs {
    const TENANTS: usize = 3;

    fn tenants(&self) -> usize {
        Self::TENANTS
    }

    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    fn change_plan(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

fn serve<A: Addon>(addon: A) -> A {
    addon
}

fn main() {
    let logs = serve(Logs);
    let _: usize = logs.tenants();
    let _: ConfigVar = Logs::ACME_LOGS_URL;
}
