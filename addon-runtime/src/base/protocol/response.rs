use serde::Serialize;

use super::Config;
use crate::base::settings::Mode;

/// A resource was created: the config vars Heroku sets on the app, and optionally an id, a
/// message for the user and (with `requires = ["syslog_drain"]`) where Heroku sends the app's logs.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Provisioned {
    pub(crate) id: Option<String>,
    pub(crate) config: Config,
    pub(crate) message: Option<String>,
    pub(crate) log_drain_url: Option<String>,
    /// Accepted, to be finished by `#[complete_provision]` in the background (202).
    pub(crate) later: bool,
}

impl Provisioned {
    pub fn new(config: Config) -> Self {
        Self { config, ..Self::default() }
    }

    /// Accepted, not finished: Heroku gets a 202 with `message` and no config, and the runtime
    /// runs the add-on's `#[complete_provision]` method in the background (durably, with
    /// retries), sets the config it returns through the Platform API and tells Heroku the
    /// add-on is provisioned. Heroku gives up after twelve hours.
    ///
    /// A [`with_log_drain_url`](Self::with_log_drain_url) goes in the 202 too. Heroku does not
    /// document whether it honours a drain there; an add-on that must be sure can also set it
    /// from its job with [`HerokuApi::update_log_drain`](crate::HerokuApi::update_log_drain).
    pub fn later(message: impl Into<String>) -> Self {
        Self { message: Some(message.into()), later: true, ..Self::default() }
    }

    /// The id Heroku uses for this resource afterwards. Defaults to Heroku's `uuid`, which is the
    /// safe choice: Heroku's documentation warns against ids derived from anything else.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A message Heroku shows to the user who provisioned.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The `https://` or `syslog://` URL Heroku drains the app's logs to.
    pub fn with_log_drain_url(mut self, url: impl Into<String>) -> Self {
        self.log_drain_url = Some(url.into());
        self
    }
}

/// A plan change succeeded: optionally new config vars and a message for the user.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct PlanChanged {
    pub(crate) config: Option<Config>,
    pub(crate) message: Option<String>,
    pub(crate) later: bool,
}

impl PlanChanged {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepted, not finished: Heroku gets a 202, and `#[complete_plan_change]` runs in the
    /// background; the config it returns is set through the Platform API.
    pub fn later(message: impl Into<String>) -> Self {
        Self { message: Some(message.into()), later: true, ..Self::default() }
    }

    /// Config vars that change with the plan.
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// A deprovision succeeded now (204), or was accepted to finish later (202, Heroku's
/// asynchronous deprovisioning): then `#[complete_deprovision]` runs in the background and the
/// runtime tells Heroku when it is done. `#[deprovision]` methods may also return `()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Deprovisioned {
    pub(crate) later: Option<String>,
}

impl Deprovisioned {
    pub fn now() -> Self {
        Self::default()
    }

    pub fn later(message: impl Into<String>) -> Self {
        Self { later: Some(message.into()) }
    }
}

impl From<()> for Deprovisioned {
    fn from((): ()) -> Self {
        Self::now()
    }
}

/// Where a signed-in user's browser goes: a path on this service (`/dashboard`) or an absolute
/// `https://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoRedirect {
    pub(crate) location: String,
}

impl SsoRedirect {
    pub fn to(location: impl Into<String>) -> Self {
        Self { location: location.into() }
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// A path, or an http(s) URL, with nothing that could split a header or leave the site by
    /// a protocol-relative `//host`.
    pub(crate) fn check(&self) -> Result<(), String> {
        let l = &self.location;
        let shaped = (l.starts_with('/') && !l.starts_with("//") && !l.starts_with("/\\"))
            || l.starts_with("https://")
            || l.starts_with("http://");
        if shaped && !l.chars().any(|c| c.is_control() || c == ' ') {
            Ok(())
        } else {
            Err(format!("SSO redirect `{l}` must be a path starting with `/` or an http(s) URL"))
        }
    }
}

/// The JSON Heroku receives for a successful provision.
#[derive(Serialize)]
pub(crate) struct ProvisionBody<'a> {
    pub(crate) id: &'a str,
    pub(crate) config: &'a Config,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_drain_url: Option<&'a str>,
}

/// The JSON Heroku receives for a successful plan change.
#[derive(Serialize)]
pub(crate) struct PlanChangeBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<&'a Config>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<&'a str>,
}

/// `https://...` or `syslog://...`; plain `http://` is let through in development, where the
/// service has no certificate.
pub(crate) fn check_log_drain_url(url: &str, mode: Mode) -> Result<(), String> {
    addon_manifest::rules::check_log_drain_url(url, mode == Mode::Development)
}
