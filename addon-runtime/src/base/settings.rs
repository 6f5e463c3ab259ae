//! Configuration from the environment, twelve-factor style. Every name is in the README's table.
//!
//! In development the service runs with no configuration at all: secrets come from the
//! `addon-manifest.json` the build wrote. In production it refuses to start without them.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::answer::Error;
use super::spec::AddonSpec;

/// Whether the service runs for real (`ADDON_ENV=production`) or on a developer's machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// What to do with Heroku's `user_scoped_resource_token` (sha256 over the resource and the user).
///
/// Its exact formula comes from one sentence of Heroku's documentation; if Heroku ever signs it
/// differently, `Ignore` lets logins fall back to `resource_token` rather than locking users out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserScopedToken {
    /// When sent, it must verify (the default).
    Verify,
    /// Disregard it and verify the other tokens.
    Ignore,
}

/// The runtime's settings. Build them with [`Settings::from_env`] or, in tests,
/// [`Settings::development`] and the `with_*` methods.
#[derive(Clone)]
pub struct Settings {
    pub(crate) mode: Mode,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) password: String,
    pub(crate) sso_salt: String,
    pub(crate) session_key: Vec<u8>,
    pub(crate) sso_window: Duration,
    pub(crate) user_scoped_token: UserScopedToken,
    pub(crate) body_limit: usize,
    pub(crate) handler_timeout: Duration,
    pub(crate) session_ttl: Duration,
    pub(crate) public_url: Option<String>,
    pub(crate) database_url: Option<String>,
    pub(crate) heroku_api_url: String,
    pub(crate) heroku_oauth_url: String,
    pub(crate) oauth_client_secret: Option<String>,
    pub(crate) token_key: Vec<u8>,
    pub(crate) job_timeout: Duration,
    pub(crate) job_poll: Duration,
    pub(crate) db_connections: DbConnections,
}

/// How many database connections the registry and the vendor's own work each get: two pools,
/// so a vendor's slow queries never take the connections the registry's need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbConnections {
    /// The runtime's own queries (claims, leases, jobs, sessions): `ADDON_DB_CONNECTIONS`.
    pub registry: Option<u32>,
    /// [`Store::vendor_pool`](crate::Store::vendor_pool): `ADDON_VENDOR_DB_CONNECTIONS`.
    pub vendor: Option<u32>,
}

const DEFAULT_SSO_WINDOW: Duration = Duration::from_secs(5 * 60);
const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Heroku gives up after 25 seconds (v1 documentation); answering a clear 503 before that
/// beats a silent time-out.
const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(20);
const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// Completing a resource (a database, a cluster) can take minutes, not seconds.
const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DEFAULT_JOB_POLL: Duration = Duration::from_secs(1);

impl Settings {
    /// Development settings with these secrets and every other value at its default.
    pub fn development(password: impl Into<String>, sso_salt: impl Into<String>) -> Self {
        let sso_salt = sso_salt.into();
        Self {
            mode: Mode::Development,
            host: "127.0.0.1".to_owned(),
            port: None,
            password: password.into(),
            session_key: derive_session_key(&sso_salt),
            token_key: derive_key(&sso_salt, b"addon-runtime token encryption key v1"),
            sso_salt,
            sso_window: DEFAULT_SSO_WINDOW,
            user_scoped_token: UserScopedToken::Verify,
            body_limit: DEFAULT_BODY_LIMIT,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
            session_ttl: DEFAULT_SESSION_TTL,
            public_url: None,
            database_url: None,
            heroku_api_url: "https://api.heroku.com".to_owned(),
            heroku_oauth_url: "https://id.heroku.com".to_owned(),
            oauth_client_secret: None,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            job_poll: DEFAULT_JOB_POLL,
            db_connections: DbConnections { registry: None, vendor: None },
        }
    }

    /// Settings for the add-on `spec` declares, from any source of variables (see
    /// [`Settings::from_vars`]).
    pub(crate) fn read(spec: &AddonSpec, var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let mode = match var("ADDON_ENV").as_deref() {
            None | Some("development") => Mode::Development,
            Some("production") => Mode::Production,
            Some(other) => {
                return Err(config(format!("ADDON_ENV is `{other}`; use `development` or `production`")))
            }
        };
        let (password, sso_salt) = secrets(spec, mode, &var)?;
        let mut settings = Self::development(password, sso_salt);
        settings.mode = mode;
        if mode == Mode::Production {
            settings.host = "0.0.0.0".to_owned();
        }
        if let Some(host) = var("HOST") {
            settings.host = host;
        }
        settings.port = parse(&var, "PORT")?;
        if let Some(key) = var("ADDON_SESSION_KEY") {
            if key.len() < 32 {
                return Err(config("ADDON_SESSION_KEY must be at least 32 characters of random text".into()));
            }
            settings.session_key = key.into_bytes();
        }
        if let Some(secs) = parse::<u64>(&var, "ADDON_SSO_WINDOW")? {
            settings.sso_window = Duration::from_secs(secs);
        }
        settings.user_scoped_token = match var("ADDON_SSO_USER_SCOPED_TOKEN").as_deref() {
            None | Some("verify") => UserScopedToken::Verify,
            Some("ignore") => UserScopedToken::Ignore,
            Some(other) => {
                return Err(config(format!(
                    "ADDON_SSO_USER_SCOPED_TOKEN is `{other}`; use `verify` or `ignore`"
                )))
            }
        };
        if let Some(limit) = parse(&var, "ADDON_BODY_LIMIT")? {
            settings.body_limit = limit;
        }
        if let Some(secs) = parse::<u64>(&var, "ADDON_HANDLER_TIMEOUT")? {
            settings.handler_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = parse::<u64>(&var, "ADDON_SESSION_TTL")? {
            settings.session_ttl = Duration::from_secs(secs);
        }
        settings.public_url = var("ADDON_PUBLIC_URL");
        settings.database_url = var("DATABASE_URL");
        if let Some(url) = var("HEROKU_API_URL") {
            settings.heroku_api_url = url;
        }
        if let Some(url) = var("HEROKU_OAUTH_URL") {
            settings.heroku_oauth_url = url;
        }
        settings.oauth_client_secret = var("HEROKU_OAUTH_CLIENT_SECRET");
        if let Some(key) = var("ADDON_TOKEN_KEY") {
            if key.len() < 32 {
                return Err(config("ADDON_TOKEN_KEY must be at least 32 characters of random text".into()));
            }
            settings.token_key = key.into_bytes();
        } else if mode == Mode::Production && settings.oauth_client_secret.is_some() {
            // Tokens will be stored: their key must not be derivable from another secret.
            return Err(config(
                "ADDON_TOKEN_KEY must be set in production with HEROKU_OAUTH_CLIENT_SECRET: it encrypts the \
                 OAuth tokens in the registry"
                    .into(),
            ));
        }
        if let Some(secs) = parse::<u64>(&var, "ADDON_JOB_TIMEOUT")? {
            settings.job_timeout = Duration::from_secs(secs);
        }
        if let Some(ms) = parse::<u64>(&var, "ADDON_JOB_POLL_MS")? {
            settings.job_poll = Duration::from_millis(ms.max(1));
        }
        settings.db_connections = DbConnections {
            registry: connections(&var, "ADDON_DB_CONNECTIONS")?,
            vendor: connections(&var, "ADDON_VENDOR_DB_CONNECTIONS")?,
        };
        Ok(settings)
    }

    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How far an SSO timestamp may lie from now, either way.
    pub fn with_sso_window(mut self, window: Duration) -> Self {
        self.sso_window = window;
        self
    }

    pub fn with_user_scoped_token(mut self, policy: UserScopedToken) -> Self {
        self.user_scoped_token = policy;
        self
    }

    /// The largest request body accepted; larger ones get 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long a vendor method may take before Heroku gets a 503.
    pub fn with_handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// Where the Platform API and Heroku's OAuth server are (a local fake, in tests).
    pub fn with_heroku_urls(mut self, api: impl Into<String>, oauth: impl Into<String>) -> Self {
        self.heroku_api_url = api.into();
        self.heroku_oauth_url = oauth.into();
        self
    }

    /// The add-on's OAuth client secret, from the Partner Portal.
    pub fn with_oauth_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.oauth_client_secret = Some(secret.into());
        self
    }

    /// How long one background job's work may take before it is stopped and retried.
    pub fn with_job_timeout(mut self, timeout: Duration) -> Self {
        self.job_timeout = timeout;
        self
    }

    /// How often an idle job runner looks for due work.
    pub fn with_job_poll(mut self, poll: Duration) -> Self {
        self.job_poll = poll;
        self
    }

    /// The size of the registry's pool and of the vendor's (`None`: the backend's default).
    pub fn with_db_connections(mut self, connections: DbConnections) -> Self {
        self.db_connections = connections;
        self
    }

    /// The pool sizes [`Store::open_with`](crate::Store::open_with) opens.
    pub fn db_connections(&self) -> DbConnections {
        self.db_connections
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The origin users and apps reach this service at: `ADDON_PUBLIC_URL`; else, in production,
    /// the manifest's production URL; else `http://127.0.0.1:<port>`.
    pub(crate) fn public_url_of(&self, spec: &AddonSpec) -> String {
        match (&self.public_url, self.mode) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Mode::Production) => spec.production.trim_end_matches('/').to_owned(),
            (None, Mode::Development) => format!("http://127.0.0.1:{}", self.port.unwrap_or(spec.port)),
        }
    }

    pub(crate) fn database_url_of(&self, spec: &AddonSpec) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}.db", spec.id))
    }

    /// Where to listen: `HOST` and `PORT`, else 127.0.0.1 in development and 0.0.0.0 in
    /// production, on the port the declaration's test URLs name.
    pub(crate) fn address_of(&self, spec: &AddonSpec) -> (String, u16) {
        (self.host.clone(), self.port.unwrap_or(spec.port))
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("password", &"<redacted>")
            .field("sso_salt", &"<redacted>")
            .field("session_key", &"<redacted>")
            .field("sso_window", &self.sso_window)
            .field("user_scoped_token", &self.user_scoped_token)
            .field("body_limit", &self.body_limit)
            .field("handler_timeout", &self.handler_timeout)
            .field("session_ttl", &self.session_ttl)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("heroku_api_url", &self.heroku_api_url)
            .field("heroku_oauth_url", &self.heroku_oauth_url)
            .field("oauth_client_secret", &self.oauth_client_secret.as_ref().map(|_| "<redacted>"))
            .field("token_key", &"<redacted>")
            .field("job_timeout", &self.job_timeout)
            .field("job_poll", &self.job_poll)
            .field("db_connections", &self.db_connections)
            .finish()
    }
}

fn config(message: String) -> Error {
    Error::Config(message)
}

fn parse<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, Error> {
    var(name)
        .map(|v| {
            v.trim().parse().map_err(|_| config(format!("{name} is `{v}`, which is not a valid number")))
        })
        .transpose()
}

/// A pool size: at least one connection.
fn connections(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<u32>, Error> {
    match parse::<u32>(var, name)? {
        Some(0) => Err(config(format!("{name} is 0; a pool needs at least one connection"))),
        size => Ok(size),
    }
}

/// The password and SSO salt: from the environment; in development, else from the manifest
/// the build wrote.
fn secrets(
    spec: &AddonSpec,
    mode: Mode,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<(String, String), Error> {
    use addon_manifest::{PASSWORD_ENV, SSO_SALT_ENV};
    let from_env = (var(PASSWORD_ENV), var(SSO_SALT_ENV));
    let (password, salt) = match (from_env, mode) {
        ((Some(password), Some(salt)), _) => (password, salt),
        (_, Mode::Production) => {
            return Err(config(format!(
                "{PASSWORD_ENV} and {SSO_SALT_ENV} must both be set in production; \
                 use the values of the manifest you pushed to Heroku"
            )))
        }
        ((password, salt), Mode::Development) => {
            let manifest = read_manifest(spec, var)?;
            (password.unwrap_or(manifest.api.password), salt.unwrap_or(manifest.api.sso_salt))
        }
    };
    for (name, value) in [(PASSWORD_ENV, &password), (SSO_SALT_ENV, &salt)] {
        addon_manifest::rules::check_secret(name, value).map_err(config)?;
    }
    Ok((password, salt))
}

fn read_manifest(
    spec: &AddonSpec,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<addon_manifest::Manifest, Error> {
    let Some(path) = var("ADDON_MANIFEST").or_else(|| spec.manifest_path.map(str::to_owned)) else {
        return Err(config(format!(
            "no secrets: set {} and {}, or ADDON_MANIFEST to a manifest file",
            addon_manifest::PASSWORD_ENV,
            addon_manifest::SSO_SALT_ENV
        )));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        config(format!("could not read the manifest `{path}` for development secrets ({e}); rebuild the crate to write it"))
    })?;
    let manifest = addon_manifest::Manifest::from_json(&text)
        .map_err(|e| config(format!("the manifest `{path}` is not valid JSON: {e}")))?;
    if manifest.id != spec.id {
        return Err(config(format!("the manifest `{path}` is for `{}`, not `{}`", manifest.id, spec.id)));
    }
    Ok(manifest)
}

/// A key for one purpose, derived from the SSO salt so that development needs no extra secret
/// and keys survive restarts.
fn derive_key(sso_salt: &str, purpose: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(sso_salt.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(purpose);
    mac.finalize().into_bytes().to_vec()
}

/// The session cookies' signing key when `ADDON_SESSION_KEY` is not set.
fn derive_session_key(sso_salt: &str) -> Vec<u8> {
    derive_key(sso_salt, b"addon-runtime session cookie key v1")
}

/// A database URL without its password, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_their_password() {
        assert_eq!(super::redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(super::redact_url("sqlite://a.db"), "sqlite://a.db");
    }
}
