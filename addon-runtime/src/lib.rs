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

mod addon;
mod app;
mod error;
mod http;
mod locks;
mod protocol;
mod session;
mod settings;
mod signon;
mod store;

#[doc(hidden)]
pub mod __private;

pub use addon::{Addon, AddonSpec};
pub use addon_manifest::{random_secret, Manifest, Requirement};
pub use app::{serve, App};
pub use error::{AddonError, Error};
pub use protocol::{
    Config, ConfigVar, DeprovisionRequest, OauthGrant, PlanChangeRequest, PlanChanged, ProvisionRequest,
    Provisioned, SsoLogin, SsoRedirect, SsoUser, TokenKind,
};
pub use session::{Session, SignedOut};
pub use settings::{Mode, Settings, UserScopedToken};
pub use store::{Backend, ResourceRecord, ResourceState, Store, StoreError};

/// Marks the method that removes a resource. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::deprovision;
#[doc = include_str!("../docs/heroku_addon.md")]
pub use addon_macros::heroku_addon;
/// Marks the method that changes a resource's plan. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::plan_change;
/// Marks the method that provisions a resource. Only valid inside a `#[heroku_addon]` impl.
pub use addon_macros::provision;
/// Marks the method that runs after a user signed in through Heroku SSO. Optional.
pub use addon_macros::sso;

/// Everything a vendor's add-on module needs, in one `use`.
pub mod prelude {
    pub use crate::{
        deprovision, heroku_addon, plan_change, provision, sso, Addon, AddonError, Config, ConfigVar,
        DeprovisionRequest, PlanChangeRequest, PlanChanged, ProvisionRequest, Provisioned, Session, SsoLogin,
        SsoRedirect,
    };
}
