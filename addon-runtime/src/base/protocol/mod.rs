//! The protocol-neutral types every layer speaks: the vendor's requests and outcomes, config,
//! SSO logins; and the v3 bodies the registry records. Lenient on input, strict on output.

mod binding;
mod config;
mod identity;
mod marketplace;
mod notification;
mod plan;
pub(crate) mod request;
pub(crate) mod response;
mod sso;

pub use binding::{BindRequest, Credentials, UnbindRequest};
pub use config::{Config, ConfigVar};
pub use identity::OriginatingIdentity;
pub use marketplace::Marketplace;
pub use notification::{Notice, Notification};
pub use plan::Plan;
pub(crate) use request::{check_plan, check_resource_id, PlanChangeBody as PlanChangeInput};
pub use request::{DeprovisionRequest, OauthGrant, PlanChangeRequest, ProvisionRequest};
pub(crate) use response::{check_log_drain_url, PlanChangeBody, ProvisionBody};
pub use response::{Deprovisioned, PlanChanged, Provisioned, SsoRedirect};
pub use sso::{SsoLogin, SsoUser, TokenKind};
