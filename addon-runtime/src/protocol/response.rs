use serde::Serialize;

use super::Config;

/// A resource was created: the config vars Heroku sets on the app, and optionally an id, a
/// message for the user and (with `requires = ["syslog_drain"]`) where Heroku sends the app's logs.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Provisioned {
    pub(crate) id: Option<String>,
    pub(crate) config: Config,
    pub(crate) message: Option<String>,
    pub(crate) log_drain_url: Option<String>,
}

impl Provisioned {
    pub fn new(config: Config) -> Self {
        Self { config, ..Self::default() }
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
}

impl PlanChanged {
    pub fn new() -> Self {
        Self::default()
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

/// `https://...` or `syslog://...` with no white space, as kensa required of `log_drain_url`;
/// plain `http://` is let through in development, where the service has no certificate.
pub(crate) fn check_log_drain_url(url: &str, mode: crate::Mode) -> Result<(), String> {
    let plain_http = if mode == crate::Mode::Development { url.strip_prefix("http://") } else { None };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("syslog://")).or(plain_http);
    match rest {
        Some(rest) if !rest.is_empty() && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(format!("log_drain_url `{url}` must be an https:// or syslog:// URL")),
    }
}
