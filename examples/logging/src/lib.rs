//! Acme Logs: a small logging add-on, the kind of service the framework is for.
//!
//! Provisioning creates a tenant with its own API token and log drain; Heroku sets
//! `ACME_LOGS_URL` and `ACME_LOGS_TOKEN` on the app and drains the app's logs to us; users
//! reach their tenant's dashboard through Heroku SSO.

mod pages;
mod tenants;

use std::sync::Arc;

use addon_runtime::prelude::*;

pub use pages::routes;
pub use tenants::{Tenant, Tenants};

/// The plans Acme Logs sells, cheapest first.
pub const PLANS: [&str; 3] = ["test", "basic", "pro"];

/// The add-on: where it is reached, and its tenants.
#[derive(Debug)]
pub struct Logs {
    public_url: String,
    tenants: Tenants,
}

impl Logs {
    /// `public_url` is the origin apps and browsers reach this service at.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            tenants: Tenants::default(),
        }
    }

    pub fn tenants(&self) -> &Tenants {
        &self.tenants
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
        let tenant = self.tenants.create(
            &request.uuid,
            &request.plan,
            request.log_drain_token.as_deref(),
        );
        let config = Config::new()
            .set(
                Self::ACME_LOGS_URL,
                format!("{}/api/tenants/{}", self.public_url, tenant.uuid),
            )
            .set(Self::ACME_LOGS_TOKEN, tenant.api_token.clone());
        Ok(Provisioned::new(config)
            .with_log_drain_url(format!("{}/drain", self.public_url))
            .with_message("Your logs will appear on the Acme Logs dashboard within seconds."))
    }

    #[plan_change]
    async fn change_plan(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Self::check_plan(&request.plan)?;
        if !self.tenants.set_plan(&request.uuid, &request.plan) {
            return Err(AddonError::not_found(
                "This Acme Logs tenant no longer exists.",
            ));
        }
        Ok(PlanChanged::new().with_message(format!(
            "Moved from {} to {}.",
            request.previous_plan, request.plan
        )))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        self.tenants.remove(&request.uuid);
        Ok(())
    }

    #[sso]
    async fn sign_in(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        if self.tenants.get(&login.uuid).is_none() {
            return Err(AddonError::not_found(
                "This Acme Logs tenant no longer exists.",
            ));
        }
        Ok(SsoRedirect::to("/dashboard"))
    }
}

/// Shares one `Logs` between the add-on routes and the dashboard.
pub type Shared = Arc<Logs>;
