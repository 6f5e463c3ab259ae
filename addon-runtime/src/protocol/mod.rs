//! The v3 Add-on Partner API's bodies: lenient on input, strict on output.

mod config;
mod jobs;
pub(crate) mod request;
pub(crate) mod response;
mod sso;

pub use config::{Config, ConfigVar};
pub use jobs::{DeprovisionJob, PlanChangeJob, ProvisionJob};
pub use request::{DeprovisionRequest, OauthGrant, PlanChangeRequest, ProvisionRequest};
pub use response::{Deprovisioned, PlanChanged, Provisioned, SsoRedirect};
pub use sso::{SsoLogin, SsoUser, TokenKind};
