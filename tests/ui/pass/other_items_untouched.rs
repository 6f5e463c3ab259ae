// Consts, types, non-handler methods and their attributes stay in the impl as written, callable
// from the handlers and from outside.
use addon_runtime::prelude::*;

struct Logs {
    tenants: u32,
}

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    production = "https://logs.acme.example",
)]
impl Logs {
    /// The plans, cheapest first.
    pub const PLANS: [&'static str; 2] = ["basic", "pro"];

    #[inline]
    pub fn new() -> Self {
        Logs { tenants: 0 }
    }

    /// Refuses unknown plans.
    fn check_plan(plan: &str) -> Result<(), AddonError> {
        match Self::PLANS.contains(&plan) {
            true => Ok(()),
            false => Err(AddonError::new(format!("no `{plan}` plan"))),
        }
    }

    #[allow(clippy::unused_async)]
    pub async fn ping(&self) -> &'static str {
        "pong"
    }

    pub fn tenants(&self) -> u32 {
        self.tenants
    }

    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Self::check_plan(&request.plan)?;
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Self::check_plan(&request.plan)?;
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let logs = Logs::new();
    assert_eq!(Logs::PLANS, ["basic", "pro"]);
    assert_eq!(logs.tenants(), 0);
    assert_eq!(logs.ping().await, "pong");
    assert!(Logs::check_plan("basic").is_ok());

    // The handler methods stay inherent methods too.
    let refused = logs
        .provision(ProvisionRequest::new("res-1", "gold"))
        .await
        .expect_err("no gold plan");
    assert_eq!(refused.message(), "no `gold` plan");
    assert!(
        Logs::plan_change(&logs, PlanChangeRequest::new("res-1", "pro", "basic"))
            .await
            .is_ok()
    );
}
