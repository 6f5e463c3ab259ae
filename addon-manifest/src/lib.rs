//! The `addon-manifest.json` that Heroku reads, and the rules it must obey.
//!
//! One crate holds these rules so that the `#[heroku_addon]` macro (at compile time), the
//! runtime (at start-up) and the conformance checker judge a manifest the same way; and the
//! [`Declaration`], the one list of what an add-on declares in code, with its defaults. The
//! rules on an add-on's answers (config values, the log drain URL, resource ids) are here too,
//! so the runtime and the checker judge answers the same way. It also names the protocol's
//! shared vocabulary, such as the SSO [`TokenKind`]s.

mod declaration;
mod digitalocean;
mod file;
mod model;
pub mod osb;
mod problem;
pub mod rules;
mod secret;
mod sso;

pub use declaration::{Declaration, DEFAULT_BASE_PATH, DEFAULT_PORT, DEFAULT_REGIONS, DEFAULT_SSO_PATH};
pub use digitalocean::{DigitalOceanListing, DEFAULT_DIGITALOCEAN_BASE_PATH};
pub use file::{write_if_changed, Written, FILE_NAME};
pub use model::{Api, Endpoints, Manifest};
pub use osb::OsbService;
pub use problem::{Field, Problem};
pub use rules::Requirement;
pub use secret::random_secret;
pub use sso::TokenKind;

/// The environment variable that holds the Basic auth password, at build time and at run time.
pub const PASSWORD_ENV: &str = "ADDON_PASSWORD";
/// The environment variable that holds the SSO salt, at build time and at run time.
pub const SSO_SALT_ENV: &str = "ADDON_SSO_SALT";
