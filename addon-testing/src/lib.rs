//! Heroku's side of an add-on's conversation, for tests: of add-ons built with `addon-runtime`
//! (which re-exports this crate as `addon_runtime::testing`, feature `testing`) and, through the
//! `addon-check` conformance checker, of add-ons written in any language. It depends on the
//! manifest alone, not on the runtime.
//!
//! - [`Simulator`] sends the requests Heroku sends: Basic auth, the v3 `Accept` header, v3 and
//!   legacy bodies ([`v3_body`], [`legacy_body`]), and SSO forms signed with every
//!   [`TokenKind`] ([`resource_token_form`], [`user_scoped_form`], [`legacy_form`]).
//! - [`FakeHeroku`] is Heroku's OAuth token endpoint and the Platform API calls an add-on makes,
//!   on a loopback port. It checks what Heroku checks (the client secret, grant codes used
//!   once, bearer tokens scoped to their resource and not expired, the `Accept` header, the
//!   shape of config updates), records every call, and can be told to fail (5xx, 429 with
//!   `Retry-After`, slow answers) so retry paths are exercised.
//! - Helpers the tests of every crate share: [`new_uuid`], [`now`], [`client`], [`urlencode`],
//!   [`set_cookie`], [`cookie_pair`], [`eventually`], and [`Process`] for a program a test
//!   starts (an add-on's binary), killed when the test ends.
//! - The crates its API hands out or takes, re-exported so a test needs no others:
//!   [`reqwest`] (responses, the client, status codes) and [`serde_json`] (bodies).
//!
//! ```no_run
//! # async fn demo() {
//! use addon_testing::{eventually, new_uuid, v3_body, FakeHeroku, Simulator, TokenKind};
//! use std::time::Duration;
//!
//! let heroku = FakeHeroku::start("client-secret").await;
//! let addon = Simulator::new("http://127.0.0.1:5000", "acme-logs", "password", "sso-salt");
//! let uuid = new_uuid();
//! let mut body = v3_body(&uuid, "test");
//! body["oauth_grant"]["code"] = heroku.grant(&uuid).into();
//! assert_eq!(addon.provision(&body).await.status(), 202);
//! assert!(eventually(Duration::from_secs(10), async || heroku.addon_state(&uuid).as_deref() == Some("provisioned")).await);
//! let signed_in = addon.sso_post(&addon.sso_form(TokenKind::UserScoped, &uuid, addon_testing::now())).await;
//! assert_eq!(signed_in.status(), 303);
//! # }
//! ```

mod digitalocean;
mod fake;
mod helpers;
mod process;
mod simulator;
mod tokens;

pub use addon_manifest::TokenKind;
pub use digitalocean::{digitalocean_body, digitalocean_sso_token, DigitalOcean, FakeDigitalOcean};
pub use fake::{Call, FakeHeroku};
pub use helpers::{client, cookie_pair, eventually, new_uuid, now, set_cookie, urlencode};
pub use process::{Captured, Process};
pub use simulator::{legacy_body, v3_body, Simulator};
pub use tokens::{legacy_form, resource_token_form, sha1_hex, sha256_hex, user_scoped_form};
pub use {reqwest, serde_json};
