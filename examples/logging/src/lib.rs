//! Acme Logs: a small logging add-on, the kind of service the framework is for.
//!
//! Provisioning creates a tenant with its own API token and log drain; Heroku sets
//! `ACME_LOGS_URL` and `ACME_LOGS_TOKEN` on the app and drains the app's logs to us; users
//! reach their tenant's dashboard through Heroku SSO.
//!
//! The example keeps no table of its own: the runtime's registry already records each
//! resource's plan, config (the token among it) and drain token, durably.

mod pages;

use std::sync::Arc;

use addon_runtime::prelude::*;
use addon_runtime::Store;

pub use pages::routes;

/// The plans Acme Logs sells, cheapest first.
pub const PLANS: [&str; 3] = ["test", "basic", "pro"];

/// The add-on: where it is reached, and its tenants.
#[derive(Debug)]
pub struct Logs {
    public_url: String,
    store: Store,
}

impl Logs {
    /// `public_url` is the origin apps and browsers reach this service at; `store` is the
    /// runtime's registry, where the tenants live.
    pub fn new(public_url: impl Into<String>, store: Store) -> Self {
        Self { public_url: public_url.into(), store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn check_plan(plan: &str) -> Result<(), AddonError> {
        if PLANS.contains(&plan) {
            Ok(())
        } else {
            Err(AddonError::new(format!(
                "Acme Logs has no `{plan}` plan. Choose one of: {}.",
                PLANS.join(", ")
            )))
        }
    }
}

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL", "ACME_LOGS_TOKEN"],
    regions = ["us", "eu"],
    requires = ["syslog_drain"],
    production = "https://logs.acme.example",
)]
impl Logs {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Self::check_plan(&request.plan)?;
        // The token is recorded with the config: the registry is this add-on's tenant table.
        let config = Config::new()
            .set(Self::ACME_LOGS_URL, format!("{}/api/tenants/{}", self.public_url, request.uuid))
            .set(Self::ACME_LOGS_TOKEN, addon_runtime::random_secret());
        Ok(Provisioned::new(config)
            .with_log_drain_url(format!("{}/drain", self.public_url))
            .with_message("Your logs will appear on the Acme Logs dashboard within seconds."))
    }

    #[plan_change]
    async fn change_plan(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Self::check_plan(&request.plan)?;
        Ok(PlanChanged::new()
            .with_message(format!("Moved from {} to {}.", request.previous_plan, request.plan)))
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        // The runtime marks the resource removed; a real service would delete its logs here.
        Ok(())
    }

    #[sso]
    async fn sign_in(&self, _login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        // The runtime has checked the token and that the resource is live.
        Ok(SsoRedirect::to("/dashboard"))
    }
}

/// Shares one `Logs` between the add-on routes and the dashboard.
pub type Shared = Arc<Logs>;
