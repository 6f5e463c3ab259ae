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

mod digitalocean;
pub(crate) use digitalocean::DigitalOceanSettings;

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
    /// Refuse any login without one that verifies: every session's user and email are then
    /// vouched for by Heroku.
    Require,
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
    /// Keys that signed cookies before a rotation: they still verify, never sign.
    pub(crate) previous_session_keys: Vec<Vec<u8>>,
    pub(crate) sso_window: Duration,
    pub(crate) user_scoped_token: UserScopedToken,
    pub(crate) sso_single_use: bool,
    pub(crate) body_limit: usize,
    pub(crate) handler_timeout: Duration,
    pub(crate) session_ttl: Duration,
    pub(crate) public_url: Option<String>,
    pub(crate) database_url: Option<String>,
    pub(crate) heroku_api_url: String,
    pub(crate) heroku_oauth_url: String,
    pub(crate) oauth_client_secret: Option<String>,
    pub(crate) token_key: Vec<u8>,
    /// Keys that sealed registry values before a rotation: they still open, never seal.
    pub(crate) previous_token_keys: Vec<Vec<u8>>,
    pub(crate) job_timeout: Duration,
    pub(crate) job_poll: Duration,
    pub(crate) server: ServerLimits,
    pub(crate) frame_ancestors: Option<String>,
    pub(crate) db_connections: DbConnections,
    /// The DigitalOcean marketplace's secrets and API (`ADDON_DO_*`).
    pub(crate) digitalocean: DigitalOceanSettings,
    /// The Open Service Broker platform's Basic auth (`ADDON_OSB_USERNAME`, `ADDON_OSB_PASSWORD`);
    /// `None` until read for an add-on that declares `osb(...)`.
    pub(crate) osb_credentials: Option<(String, String)>,
}

/// What one connection and the whole server may hold, so that no client (slow, idle or many)
/// takes the service down. Every limit is on by default; the README's table names the variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// From the first byte of a request to the end of its headers.
    pub header_timeout: Duration,
    /// From the end of a request's headers to the end of its body.
    pub body_timeout: Duration,
    /// A connection with no request and no traffic is closed after this long.
    pub idle_timeout: Duration,
    /// Open connections at most; past it the server stops accepting until one closes.
    pub max_connections: usize,
    /// Requests being answered at once, at most; past it a request gets a JSON 503.
    pub max_in_flight: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            // Heroku's router and load balancers send a request's headers in one go, so ten
            // seconds is generous for them and short for a client trickling header lines.
            header_timeout: Duration::from_secs(10),
            // Heroku's router gives up on a request after 30 s; no body that reached the dyno
            // through it takes longer, and a body still arriving then is an attack or a lost
            // client.
            body_timeout: Duration::from_secs(30),
            // Longer than the idle timeouts of the proxies in front (Heroku's router keeps idle
            // connections to a dyno for up to 90 s, AWS load balancers 60 s by default), so the
            // proxy always closes first and never sends a request on a connection being closed.
            idle_timeout: Duration::from_secs(120),
            // Each idle connection costs a file descriptor and some 20 KB; 4,096 of them stay
            // under 100 MB, within a small dyno, and under the usual hard file limit.
            max_connections: 4096,
            // Heroku's router keeps at most about 50 requests waiting per dyno; 512 leaves room
            // for a load balancer in front and slow vendor routes, and sheds a flood early.
            max_in_flight: 512,
        }
    }
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
        let digitalocean = DigitalOceanSettings::development(&sso_salt);
        Self {
            mode: Mode::Development,
            host: "127.0.0.1".to_owned(),
            port: None,
            password: password.into(),
            session_key: derive_session_key(&sso_salt),
            previous_session_keys: Vec::new(),
            token_key: derive_key(&sso_salt, b"addon-runtime token encryption key v1"),
            previous_token_keys: Vec::new(),
            sso_salt,
            sso_window: DEFAULT_SSO_WINDOW,
            user_scoped_token: UserScopedToken::Verify,
            sso_single_use: false,
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
            server: ServerLimits::default(),
            frame_ancestors: None,
            db_connections: DbConnections { registry: None, vendor: None },
            digitalocean,
            osb_credentials: None,
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
        settings.oauth_client_secret = var("HEROKU_OAUTH_CLIENT_SECRET");
        read_keys(&mut settings, &var)?;
        if let Some(secs) = parse::<u64>(&var, "ADDON_SSO_WINDOW")? {
            settings.sso_window = Duration::from_secs(secs);
        }
        settings.user_scoped_token = match var("ADDON_SSO_USER_SCOPED_TOKEN").as_deref() {
            None | Some("verify") => UserScopedToken::Verify,
            Some("ignore") => UserScopedToken::Ignore,
            Some("require") => UserScopedToken::Require,
            Some(other) => {
                return Err(config(format!(
                    "ADDON_SSO_USER_SCOPED_TOKEN is `{other}`; use `verify`, `ignore` or `require`"
                )))
            }
        };
        if let Some(single_use) = flag(&var, "ADDON_SSO_SINGLE_USE")? {
            settings.sso_single_use = single_use;
        }
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
        if let Some(secs) = parse::<u64>(&var, "ADDON_JOB_TIMEOUT")? {
            settings.job_timeout = Duration::from_secs(secs);
        }
        if let Some(ms) = parse::<u64>(&var, "ADDON_JOB_POLL_MS")? {
            settings.job_poll = Duration::from_millis(ms.max(1));
        }
        settings.server = read_server_limits(&var)?;
        if let Some(ancestors) = var("ADDON_FRAME_ANCESTORS") {
            settings.frame_ancestors = Some(check_frame_ancestors(&ancestors)?);
        }
        settings.db_connections = DbConnections {
            registry: connections(&var, "ADDON_DB_CONNECTIONS")?,
            vendor: connections(&var, "ADDON_VENDOR_DB_CONNECTIONS")?,
        };
        settings.digitalocean.read(spec.digitalocean.is_some(), mode, &var)?;
        let do_tokens = settings.digitalocean.client_secret.is_some() && spec.digitalocean.is_some();
        if mode == Mode::Production && do_tokens && var(TOKEN_KEY).is_none() {
            return Err(config(format!(
                "{TOKEN_KEY} must be set in production with ADDON_DO_CLIENT_SECRET: it seals DigitalOcean's OAuth \
                 tokens in the registry. Set it to 32 or more random characters, different from ADDON_SSO_SALT and \
                 {SESSION_KEY}"
            )));
        }
        settings.osb_credentials = read_osb_credentials(spec, &settings, &var)?;
        Ok(settings)
    }

    /// The Basic auth an Open Service Broker platform must send (`ADDON_OSB_USERNAME`,
    /// `ADDON_OSB_PASSWORD`).
    pub fn with_osb_credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.osb_credentials = Some((username.into(), password.into()));
        self
    }

    /// The OSB platform's username and password: the ones set, else (development) the add-on's
    /// id and its Heroku password.
    pub(crate) fn osb_credentials_of<'a>(&'a self, spec: &'a AddonSpec) -> (&'a str, &'a str) {
        match &self.osb_credentials {
            Some((user, password)) => (user, password),
            None => (spec.id, &self.password),
        }
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

    /// Refuse an SSO form this registry has seen before (within its time window), on every
    /// instance that shares the registry.
    pub fn with_sso_single_use(mut self, single_use: bool) -> Self {
        self.sso_single_use = single_use;
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

    /// The key that signs session cookies (`ADDON_SESSION_KEY`) and the ones it replaced, which
    /// still verify cookies they signed (`ADDON_SESSION_KEYS_PREVIOUS`).
    pub fn with_session_keys<K: AsRef<[u8]>>(mut self, current: impl AsRef<[u8]>, previous: &[K]) -> Self {
        self.session_key = current.as_ref().to_vec();
        self.previous_session_keys = previous.iter().map(|k| k.as_ref().to_vec()).collect();
        self
    }

    /// The key that seals tokens, config and answers in the registry (`ADDON_TOKEN_KEY`) and the
    /// ones it replaced, which still open what they sealed (`ADDON_TOKEN_KEYS_PREVIOUS`).
    pub fn with_token_keys<K: AsRef<[u8]>>(mut self, current: impl AsRef<[u8]>, previous: &[K]) -> Self {
        self.token_key = current.as_ref().to_vec();
        self.previous_token_keys = previous.iter().map(|k| k.as_ref().to_vec()).collect();
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

    /// The server's timeouts and caps (see [`ServerLimits`]).
    pub fn with_server_limits(mut self, limits: ServerLimits) -> Self {
        self.server = limits;
        self
    }

    pub fn server_limits(&self) -> &ServerLimits {
        &self.server
    }

    /// Who may frame the runtime's pages and the vendor's pages behind a session: a CSP
    /// `frame-ancestors` source list such as `https://dashboard.example.com`. By default nobody
    /// (`'none'`, with `X-Frame-Options: DENY`).
    pub fn with_frame_ancestors(mut self, sources: &str) -> Result<Self, Error> {
        self.frame_ancestors = Some(check_frame_ancestors(sources)?);
        Ok(self)
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

    /// DigitalOcean's Basic auth password and SSO salt (`ADDON_DO_PASSWORD`, `ADDON_DO_SSO_SALT`).
    pub fn with_digitalocean_secrets(
        mut self,
        password: impl Into<String>,
        sso_salt: impl Into<String>,
    ) -> Self {
        self.digitalocean.password = password.into();
        self.digitalocean.sso_salt = sso_salt.into();
        self
    }

    /// Where DigitalOcean's API is (`ADDON_DO_API_URL`; a local fake, in tests) and the OAuth
    /// client secret its grants are exchanged with (`ADDON_DO_CLIENT_SECRET`).
    pub fn with_digitalocean_api(mut self, url: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.digitalocean.api_url = url.into().trim_end_matches('/').to_owned();
        self.digitalocean.client_secret = Some(client_secret.into());
        self
    }

    /// DigitalOcean's Basic auth password and SSO salt, for a test's simulator of DigitalOcean.
    #[doc(hidden)]
    pub fn digitalocean_secrets(&self) -> (&str, &str) {
        (&self.digitalocean.password, &self.digitalocean.sso_salt)
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
            .field("previous_session_keys", &self.previous_session_keys.len())
            .field("sso_window", &self.sso_window)
            .field("user_scoped_token", &self.user_scoped_token)
            .field("sso_single_use", &self.sso_single_use)
            .field("body_limit", &self.body_limit)
            .field("handler_timeout", &self.handler_timeout)
            .field("session_ttl", &self.session_ttl)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("heroku_api_url", &self.heroku_api_url)
            .field("heroku_oauth_url", &self.heroku_oauth_url)
            .field("oauth_client_secret", &self.oauth_client_secret.as_ref().map(|_| "<redacted>"))
            .field("token_key", &"<redacted>")
            .field("previous_token_keys", &self.previous_token_keys.len())
            .field("job_timeout", &self.job_timeout)
            .field("job_poll", &self.job_poll)
            .field("server", &self.server)
            .field("frame_ancestors", &self.frame_ancestors)
            .field("db_connections", &self.db_connections)
            .field("digitalocean", &self.digitalocean)
            .field("osb_credentials", &self.osb_credentials.as_ref().map(|(user, _)| (user, "<redacted>")))
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

/// An on/off setting: `true`/`false` (also `1`/`0`, `on`/`off`, `yes`/`no`).
fn flag(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<bool>, Error> {
    var(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(config(format!("{name} is `{v}`; use `true` or `false`"))),
        })
        .transpose()
}

/// `ADDON_HEADER_TIMEOUT`, `ADDON_BODY_TIMEOUT`, `ADDON_IDLE_TIMEOUT` (seconds),
/// `ADDON_MAX_CONNECTIONS` and `ADDON_MAX_IN_FLIGHT`; zero is refused, as it would refuse everything.
fn read_server_limits(var: &impl Fn(&str) -> Option<String>) -> Result<ServerLimits, Error> {
    let mut limits = ServerLimits::default();
    let positive = |name: &str| -> Result<Option<u64>, Error> {
        match parse::<u64>(var, name)? {
            Some(0) => Err(config(format!(
                "{name} is 0, which would refuse every request; leave it unset for the default"
            ))),
            other => Ok(other),
        }
    };
    if let Some(secs) = positive("ADDON_HEADER_TIMEOUT")? {
        limits.header_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = positive("ADDON_BODY_TIMEOUT")? {
        limits.body_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = positive("ADDON_IDLE_TIMEOUT")? {
        limits.idle_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = positive("ADDON_MAX_CONNECTIONS")? {
        limits.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = positive("ADDON_MAX_IN_FLIGHT")? {
        limits.max_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(limits)
}

/// A CSP source list for `frame-ancestors`: printable ASCII without `;` or `,`, which would end
/// the directive or the header and let the value add policies of its own.
fn check_frame_ancestors(sources: &str) -> Result<String, Error> {
    let sources = sources.trim();
    let printable = sources.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b';' && b != b',');
    if sources.is_empty() || !printable {
        return Err(config(format!(
            "ADDON_FRAME_ANCESTORS is `{sources}`; give CSP sources separated by spaces, such as \
             `'self' https://dashboard.example.com`, or `'none'`"
        )));
    }
    Ok(sources.to_owned())
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

/// The session and token keys, current and previous (see the README's "Rotating keys").
///
/// In production the session key must be set: derived from the SSO salt, which Heroku holds too,
/// it would let anyone with the salt mint cookies. So must the token key when OAuth tokens will
/// be stored. A key that is set must be long, and differ from the salt, the password and the
/// other key, so that no secret stands in for another.
fn read_keys(settings: &mut Settings, var: &impl Fn(&str) -> Option<String>) -> Result<(), Error> {
    let production = settings.mode == Mode::Production;
    let session_key = var(SESSION_KEY);
    if session_key.is_none() && production {
        return Err(config(format!(
            "{SESSION_KEY} must be set in production: it signs session cookies, and the key derived from \
             the SSO salt in development could be derived by anyone who holds the salt (Heroku does). \
             Set it to 32 or more random characters, different from ADDON_SSO_SALT"
        )));
    }
    let token_key = var(TOKEN_KEY);
    if token_key.is_none() && production && settings.oauth_client_secret.is_some() {
        return Err(config(format!(
            "{TOKEN_KEY} must be set in production with HEROKU_OAUTH_CLIENT_SECRET: it seals the OAuth \
             tokens in the registry. Set it to 32 or more random characters, different from \
             ADDON_SSO_SALT and {SESSION_KEY}"
        )));
    }
    for (name, key) in [(SESSION_KEY, &session_key), (TOKEN_KEY, &token_key)] {
        if let Some(key) = key {
            check_key(name, key, settings)?;
        }
    }
    if let (Some(session), Some(token)) = (&session_key, &token_key) {
        if session == token {
            return Err(config(format!(
                "{TOKEN_KEY} is the same as {SESSION_KEY}; give each its own random value"
            )));
        }
    }
    if let Some(key) = session_key {
        settings.session_key = key.into_bytes();
    }
    if let Some(key) = token_key {
        settings.token_key = key.into_bytes();
    }
    settings.previous_session_keys = previous_keys(var, PREVIOUS_SESSION_KEYS, &settings.session_key)?;
    settings.previous_token_keys = previous_keys(var, PREVIOUS_TOKEN_KEYS, &settings.token_key)?;
    Ok(())
}

const OSB_USERNAME: &str = "ADDON_OSB_USERNAME";
const OSB_PASSWORD: &str = "ADDON_OSB_PASSWORD";

/// The Open Service Broker platform's credentials, for an add-on that declares `osb(...)`.
/// Production needs both, the password a real secret unlike the others; development defaults to
/// the add-on's id and its Heroku password, so the example answers `curl` with no setup.
fn read_osb_credentials(
    spec: &AddonSpec,
    settings: &Settings,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, Error> {
    let (username, password) = (var(OSB_USERNAME), var(OSB_PASSWORD));
    if spec.osb.is_none() {
        return Ok(username.zip(password));
    }
    let (username, password) = match (username, password, settings.mode) {
        (Some(user), Some(password), _) => (user, password),
        (None, None, Mode::Development) => return Ok(None),
        (_, _, Mode::Production) => {
            return Err(config(format!(
                "{OSB_USERNAME} and {OSB_PASSWORD} must both be set in production: the add-on declares \
                 `osb(...)`, and Open Service Broker platforms authenticate with them"
            )))
        }
        (user, _, Mode::Development) => {
            let missing = if user.is_some() { OSB_PASSWORD } else { OSB_USERNAME };
            return Err(config(format!(
                "{missing} is not set; set both {OSB_USERNAME} and {OSB_PASSWORD}, or neither"
            )));
        }
    };
    if username.is_empty() || username.contains(':') {
        return Err(config(format!("{OSB_USERNAME} must be non-empty and must not contain `:`")));
    }
    addon_manifest::rules::check_secret(OSB_PASSWORD, &password).map_err(Error::Config)?;
    use addon_manifest::{PASSWORD_ENV, SSO_SALT_ENV};
    for (other, value) in [(SSO_SALT_ENV, &settings.sso_salt), (PASSWORD_ENV, &settings.password)] {
        if password == *value {
            return Err(config(format!(
                "{OSB_PASSWORD} is the same as {other}; give it its own random value"
            )));
        }
    }
    Ok(Some((username, password)))
}

const SESSION_KEY: &str = "ADDON_SESSION_KEY";
const TOKEN_KEY: &str = "ADDON_TOKEN_KEY";
const PREVIOUS_SESSION_KEYS: &str = "ADDON_SESSION_KEYS_PREVIOUS";
const PREVIOUS_TOKEN_KEYS: &str = "ADDON_TOKEN_KEYS_PREVIOUS";

fn check_key(name: &str, key: &str, settings: &Settings) -> Result<(), Error> {
    if key.len() < 32 {
        return Err(config(format!("{name} must be at least 32 characters of random text")));
    }
    if key.contains(',') {
        return Err(config(format!(
            "{name} contains a comma; keys are listed comma-separated when they rotate, so use a key without one"
        )));
    }
    use addon_manifest::{PASSWORD_ENV, SSO_SALT_ENV};
    for (other, value) in [(SSO_SALT_ENV, &settings.sso_salt), (PASSWORD_ENV, &settings.password)] {
        if key == value.as_str() {
            return Err(config(format!("{name} is the same as {other}; give it its own random value")));
        }
    }
    Ok(())
}

/// A comma-separated list of keys that only verify or open, never sign or seal.
fn previous_keys(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    current: &[u8],
) -> Result<Vec<Vec<u8>>, Error> {
    let Some(list) = var(name) else { return Ok(Vec::new()) };
    let mut keys = Vec::new();
    for (index, key) in list.split(',').map(str::trim).enumerate() {
        if key.is_empty() {
            return Err(config(format!(
                "{name} has an empty entry (number {}); list old keys separated by commas",
                index + 1
            )));
        }
        if key.as_bytes() == current {
            return Err(config(format!(
                "{name} lists the current key (entry {}); list only the keys it replaced",
                index + 1
            )));
        }
        keys.push(key.as_bytes().to_vec());
    }
    Ok(keys)
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
