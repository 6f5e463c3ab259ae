//! Build Heroku add-on services in Rust.
//!
//! A vendor annotates one `impl` block with [`heroku_addon`] and marks the methods that
//! provision, change plan, deprovision and sign users in. This crate does the rest: the
//! v3 Add-on Partner API routes, Basic auth, SSO token checks and session cookies, replayed
//! answers for re-delivered requests, JSON errors written for Heroku's users, and the
//! `addon-manifest.json` that `cargo build` writes.
//!
//! ```no_run
//! use addon_runtime::prelude::*;
//!
//! struct Logs;
//!
//! #[heroku_addon(
//!     id = "acme-logs",
//!     name = "Acme Logs",
//!     config_vars = ["ACME_LOGS_URL"],
//!     plans = ["hobby", "pro"],
//!     production = "https://logs.acme.example",
//! )]
//! impl Logs {
//!     #[provision]
//!     async fn provision(&self, req: ProvisionRequest) -> Result<Provisioned, AddonError> {
//!         let url = format!("https://logs.acme.example/tenants/{}", req.uuid);
//!         Ok(Provisioned::new(Config::new().set(Self::ACME_LOGS_URL, url)))
//!     }
//!
//!     #[plan_change]
//!     async fn change_plan(&self, _req: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
//!         Ok(PlanChanged::new())
//!     }
//!
//!     #[deprovision]
//!     async fn deprovision(&self, _req: DeprovisionRequest) -> Result<(), AddonError> {
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), addon_runtime::Error> {
//!     addon_runtime::serve(Logs).await
//! }
//! ```
//!
//! The [`README`](https://github.com/heroku-addon-rs/heroku-addon) has the tour and the table of
//! environment variables.

// The layers, top to bottom; each imports only the ones below it (`ARCHITECTURE.md` has the
// table, and `tests/layers.rs` holds the code to it).
mod app;
mod base;
mod digitalocean;
mod heroku;
mod lifecycle;
mod osb;
mod services;
mod web;

// Property tests over every parser of outside input; under `app/` because they name every layer.
#[cfg(test)]
#[path = "app/proptests.rs"]
mod proptests;

#[doc(hidden)]
pub mod __private;

// Under `app/` because it names the app: the test kit is the app, served.
#[cfg(feature = "testing")]
#[path = "app/testing.rs"]
pub mod testing;

/// The manifest rules, as the macro and the runtime apply them (for tools such as checkers).
pub use addon_manifest::rules as manifest_rules;
/// The Open Service Broker side: what `osb(...)` declares, and who asked.
pub use addon_manifest::OsbService;
pub use addon_manifest::{random_secret, Manifest, Requirement};
pub use app::{init_logging, serve, App, Runtime};
pub use base::answer::{AddonError, Error};
pub use base::clock::{Clock, ManualClock, SystemClock};
pub use base::protocol::OriginatingIdentity;
// Bindings, for marketplaces that hand out credentials at bind time (the Open Service Broker API).
pub use base::protocol::{BindRequest, Credentials, UnbindRequest};
pub use base::protocol::{
    Config, ConfigVar, DeprovisionRequest, Deprovisioned, Marketplace, OauthGrant, Plan, PlanChangeRequest,
    PlanChanged, ProvisionRequest, Provisioned, SsoLogin, SsoRedirect, SsoUser, TokenKind,
};
pub use base::settings::{DbConnections, Mode, ServerLimits, Settings, UserScopedToken};
// The DigitalOcean marketplace: its listing in the declaration, its notices, its API.
pub use addon_manifest::DigitalOceanListing;
pub use base::protocol::{Notice, Notification};
pub use base::spec::AddonSpec;
pub use services::platform::DigitalOceanApi;
pub use services::platform::{
    AddonInfo, AppInfo, Collaborator, HerokuApi, NamedRef, Owner, PlatformError, User,
};
pub use services::rate_limit::RateLimiter;
pub use services::sessions::Session;
pub use services::store::{Backend, Lease, Migrations, ResourceRecord, ResourceState, Store, StoreError};
pub use services::vendor::addon::Addon;
pub use services::vendor::jobs::{DeprovisionJob, PlanChangeJob, ProvisionJob};
pub use web::api_key::{ApiKey, ApiKeyLimit, ApiKeyVar};
pub use web::extract;
pub use web::rate_limit::{Limited, LimitedResource};
pub use web::signed_out::{escape_html, SignedOut};

/// Marks the method that hands out an app's credentials when an Open Service Broker platform
/// binds it (see [`BindRequest`]). Optional: without it, a binding gets the resource's config.
pub use addon_macros::bind;
/// Marks the method that finishes a deprovision answered with `Deprovisioned::later`.
pub use addon_macros::complete_deprovision;
/// Marks the method that finishes a plan change answered with `PlanChanged::later`.
pub use addon_macros::complete_plan_change;
/// Marks the method that finishes a provision answered with `Provisioned::later`.
pub use addon_macros::complete_provision;
/// Marks the method that removes a resource. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::deprovision;
#[doc = include_str!("../docs/heroku_addon.md")]
pub use addon_macros::heroku_addon;
/// Marks the method that hears a marketplace's notices (DigitalOcean's suspension and the
/// rest; see [`Notice`]). Optional.
pub use addon_macros::notification;
/// Marks the method that changes a resource's plan. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::plan_change;
/// Marks the method that provisions a resource. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::provision;
/// Marks the method that runs after a user signed in through Heroku SSO. Optional.
pub use addon_macros::sso;
/// Marks the method that revokes what `#[bind]` handed out (see [`UnbindRequest`]). Optional.
pub use addon_macros::unbind;

/// Everything a vendor's add-on module needs, in one `use`.
pub mod prelude {
    pub use crate::{bind, unbind, BindRequest, Credentials, UnbindRequest};
    pub use crate::{
        complete_deprovision, complete_plan_change, complete_provision, deprovision, heroku_addon,
        plan_change, provision, sso, Addon, AddonError, Config, ConfigVar, DeprovisionJob,
        DeprovisionRequest, Deprovisioned, PlanChangeJob, PlanChangeRequest, PlanChanged, ProvisionJob,
        ProvisionRequest, Provisioned, Session, SsoLogin, SsoRedirect,
    };
    pub use crate::{notification, Marketplace, Notice, Notification};
}
