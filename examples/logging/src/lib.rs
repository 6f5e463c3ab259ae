//! Acme Logs: a small logging add-on, the kind of service the framework is for.
//!
//! Provisioning creates a tenant with its own API token and log drain; Heroku sets
//! `ACME_LOGS_URL` and `ACME_LOGS_TOKEN` on the app and drains the app's logs to `POST /drain`;
//! users reach their tenant's dashboard through Heroku SSO and search the lines kept there.
//!
//! The runtime's registry is the tenant table: it records each resource's plan, config (the
//! token among it) and drain token, durably. The example adds only what is its own: the log
//! lines, in [`LogBook`]'s tables in the same database.

mod api;
mod drain;
mod logbook;
pub mod logplex;
mod pages;
mod plans;

use std::sync::Arc;
use std::time::Duration;

use addon_runtime::prelude::*;
use addon_runtime::{App, Clock, RateLimiter, Settings, SignedOut, Store, SystemClock};
use axum::routing::{get, post};
use axum::Router;

pub use api::MAX_QUERY_CHARS;
pub use logbook::{DrainStats, LogBook, LogLine, Stored};
pub use pages::RECENT_LINES;
pub use plans::{plan, Plan, PLANS};

/// How often one tenant may call the drain and the API: each tenant has its own allowance, so
/// one tenant's flood is refused (429) while the others are served as before.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Frames per tenant: Logplex sends even a busy app's logs in a few frames a second.
    pub drain: RateLimiter,
    /// Lines per tenant, counted once a frame is parsed: what bounds the writes one tenant
    /// makes, whatever the size of its frames.
    pub lines: RateLimiter,
    /// API calls per tenant.
    pub api: RateLimiter,
}

impl Default for Limits {
    /// 10 frames a second per tenant (bursts of 20), 2,000 lines a second (bursts of 10,000);
    /// 5 API calls a second (bursts of 10).
    fn default() -> Self {
        Self {
            drain: RateLimiter::new(10, Duration::from_secs(1)).with_burst(20),
            lines: RateLimiter::new(2_000, Duration::from_secs(1)).with_burst(10_000),
            api: RateLimiter::new(5, Duration::from_secs(1)).with_burst(10),
        }
    }
}

/// The add-on: where it is reached, its tenants and their logs.
#[derive(Debug)]
pub struct Logs {
    public_url: String,
    store: Store,
    book: LogBook,
    limits: Limits,
}

impl Logs {
    /// `public_url` is the origin apps and browsers reach this service at; `store` is the
    /// runtime's registry, where the tenants live; `book` keeps their log lines.
    pub fn new(public_url: impl Into<String>, store: Store, book: LogBook) -> Self {
        Self { public_url: public_url.into(), store, book, limits: Limits::default() }
    }

    /// The same add-on with other rate limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn book(&self) -> &LogBook {
        &self.book
    }

    fn check_plan(slug: &str) -> Result<(), AddonError> {
        if plan(slug).is_some() {
            Ok(())
        } else {
            let slugs: Vec<&str> = PLANS.iter().map(|plan| plan.slug).collect();
            Err(AddonError::new(format!(
                "Acme Logs has no `{slug}` plan. Choose one of: {}.",
                slugs.join(", ")
            )))
        }
    }
}

/// The whole service on `store`'s database: the add-on, its log tables, its pages and drain.
/// `main` serves it; tests and benchmarks serve the same thing.
pub async fn app(settings: Settings, store: Store) -> Result<App<Logs>, addon_runtime::Error> {
    app_with(settings, store, Limits::default(), Arc::new(SystemClock)).await
}

/// [`app`] with other rate limits, reading time from `clock` (tests move a `ManualClock` across
/// days to see daily limits reset and lines expire).
pub async fn app_with(
    settings: Settings,
    store: Store,
    limits: Limits,
    clock: Arc<dyn Clock>,
) -> Result<App<Logs>, addon_runtime::Error> {
    let book = LogBook::open(&store).await?.with_clock(clock.clone());
    let logs = Arc::new(Logs::new(settings.public_url::<Logs>(), store.clone(), book).with_limits(limits));
    // Signed-out browsers land on our own page, in the product's look, not the runtime's.
    let signed_out = SignedOut::redirect("/signed-out")?;
    let app = App::new(logs.clone(), settings, store)?.with_clock(clock);
    Ok(app.with_signed_out(signed_out).with_routes(routes(logs)))
}

/// The example's own routes, to pass to `App::with_routes`.
pub fn routes(logs: Shared) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/dashboard", get(pages::own_dashboard))
        .route("/dashboard/{uuid}", get(pages::dashboard))
        .route("/signed-out", get(pages::signed_out))
        .route("/drain", post(drain::ingest))
        .route("/api/tenants/{uuid}", get(api::lines))
        .with_state(logs)
}

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL", "ACME_LOGS_TOKEN"],
    api_key = "ACME_LOGS_TOKEN",
    plans = ["test", "basic", "pro"],
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
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        // The runtime marks the resource removed (its drain token and sessions stop working);
        // the customer's logs are ours to delete. A failure here lets Heroku retry.
        self.book.forget(&request.uuid).await.map_err(logbook::unavailable)
    }

    #[sso]
    async fn sign_in(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        // The runtime has checked the token and that the resource is live.
        Ok(SsoRedirect::to(pages::dashboard_path(&login.uuid)))
    }
}

/// Shares one `Logs` between the add-on routes and the dashboard.
pub type Shared = Arc<Logs>;
