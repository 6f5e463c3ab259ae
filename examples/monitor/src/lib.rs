//! Pingly: an uptime monitor sold as a Heroku add-on and on DigitalOcean's marketplace, from one
//! impl, the way a vendor with data of their own builds one.
//!
//! `digitalocean` in the attribute mounts DigitalOcean's routes under `/digitalocean` beside
//! Heroku's; the methods below do not change. A resource DigitalOcean suspends keeps its
//! monitors, while its API key and dashboard are refused until it is reactivated.
//!
//! Provisioning gives the app `PINGLY_URL` (the API's base) and `PINGLY_API_KEY` (a random key
//! per resource). The app adds the URLs to watch through `POST /api/monitors`, authenticated by
//! that key; a background prober checks each URL on an interval and records its status and
//! latency; users see their monitors on a dashboard after Heroku SSO.
//!
//! The plans limit how many monitors a resource may have ([`MONITOR_LIMITS`]): creating one past
//! the limit is refused, and so is a downgrade to a plan the resource has outgrown. Both read
//! the plan under the resource's lease, so a create and a plan change never interleave.

mod api;
mod dashboard;
mod monitors;
mod plans;
mod prober;
mod schema;
mod target_url;

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::prelude::*;
use addon_runtime::{RateLimiter, Store};
use axum::Router;

pub use monitors::{Check, Monitor, PlanChange};
pub use plans::{limit_of, MONITOR_LIMITS};
pub use prober::{spawn_prober, Probing};
pub use target_url::MAX_URL_CHARS;

/// The add-on: its registry (and, on the registry's database, its own tables), where apps reach
/// its API, the API's rate limit and how it probes.
#[derive(Debug)]
pub struct Pingly {
    public_url: String,
    store: Store,
    api_limit: RateLimiter,
    probing: Probing,
}

impl Pingly {
    /// Pingly on `store`, its tables migrated; `public_url` is the origin apps reach the API at.
    pub async fn open(store: Store, public_url: impl Into<String>) -> Result<Self, addon_runtime::Error> {
        store.migrate(&schema::migrations()).await?;
        Ok(Self {
            public_url: public_url.into(),
            store,
            // An app scripting its monitors sends a handful of calls at once, not a stream.
            api_limit: RateLimiter::new(5, Duration::from_secs(1)).with_burst(20),
            probing: Probing::default(),
        })
    }

    /// The same add-on with another API rate limit (per resource).
    pub fn with_api_limit(mut self, limit: RateLimiter) -> Self {
        self.api_limit = limit;
        self
    }

    /// The same add-on, probing on another interval or timeout.
    pub fn with_probing(mut self, probing: Probing) -> Self {
        self.probing = probing;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A resource's monitors with their latest checks, oldest first.
    pub async fn monitors(&self, uuid: &str) -> Result<Vec<Monitor>, AddonError> {
        monitors::list(&self.store, uuid).await
    }

    /// The plan changes Pingly judged for a resource, oldest first.
    pub async fn plan_changes(&self, uuid: &str) -> Result<Vec<PlanChange>, AddonError> {
        monitors::plan_changes(&self.store, uuid).await
    }
}

/// Pingly's own routes (the app's API and the dashboard), to serve beside Heroku's.
pub fn routes(pingly: Arc<Pingly>) -> Router {
    api::routes().merge(dashboard::routes()).with_state(pingly)
}

#[heroku_addon(
    id = "pingly",
    name = "Pingly",
    config_vars = ["PINGLY_URL", "PINGLY_API_KEY"],
    api_key = "PINGLY_API_KEY",
    plans = ["hobby", "pro"],
    regions = ["us", "eu"],
    production = "https://pingly.example",
    port = 5200,
    digitalocean,
)]
impl Pingly {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        // The runtime keeps the key sealed and finds the resource by a keyed digest of it, so
        // Pingly stores no copy of its own.
        let config = Config::new()
            .set(Self::PINGLY_URL, format!("{}/api", self.public_url))
            .set(Self::PINGLY_API_KEY, addon_runtime::random_secret());
        let limit = plans::monitors(limit_of(&request.plan).into());
        Ok(Provisioned::new(config).with_message(format!(
            "Pingly is ready: add up to {limit} with POST $PINGLY_URL/monitors and PINGLY_API_KEY."
        )))
    }

    /// Runs under the resource's lease (the runtime holds it for plan changes), so no monitor
    /// is created between the count and the answer.
    #[plan_change]
    async fn change_plan(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        let started = monitors::now_micros();
        let count = monitors::count(&self.store, &request.uuid).await?;
        let limit = u64::from(limit_of(&request.plan));
        let accepted = count <= limit;
        let change = PlanChange {
            from_plan: request.previous_plan.to_string(),
            to_plan: request.plan.to_string(),
            accepted,
            started,
            finished: monitors::now_micros(),
        };
        monitors::record_plan_change(&self.store, &request.uuid, &change).await?;
        if !accepted {
            return Err(AddonError::new(format!(
                "The {plan} plan allows {allowed}, and this add-on has {count}: remove {excess} first, \
                 then change plans again.",
                plan = request.plan,
                allowed = plans::monitors(limit),
                excess = plans::monitors(count - limit),
            )));
        }
        Ok(PlanChanged::new().with_message(format!(
            "Pingly is now on the {} plan: up to {}.",
            request.plan,
            plans::monitors(limit)
        )))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        // The runtime stops the key working; the monitors and their history are ours to delete.
        monitors::forget(&self.store, &request.uuid).await
    }

    #[sso]
    async fn sign_in(&self, _login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        Ok(SsoRedirect::to(dashboard::PATH))
    }

    /// DigitalOcean's notices: the runtime has already recorded them (a suspended resource's
    /// key and dashboard are refused); Pingly only logs them, and keeps probing so the history
    /// has no gap when the account comes back.
    #[notification]
    async fn notice(&self, notification: Notification) -> Result<(), AddonError> {
        tracing::info!(uuid = %notification.uuid, notice = notification.notice.name(), "marketplace notice");
        Ok(())
    }
}
