//! The application: an [`Addon`], its settings and the vendor's own routes, served over HTTP;
//! and the [`Runtime`] that holds the settings and the registry before the add-on exists.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::base::answer::Error;
use crate::base::clock::{self, Clock};
use crate::base::settings::Settings;
use crate::lifecycle::{jobs, Core};
use crate::services::platform::HerokuApi;
use crate::services::store::Store;
use crate::services::vendor::addon::Addon;
use crate::web::signed_out::SignedOut;
use crate::web::{PageHeaders, SessionContext};
use crate::{digitalocean, heroku, osb, web};

/// An add-on service with the vendor's own routes, or inside the vendor's existing axum app.
///
/// ```no_run
/// # use addon_runtime::{Addon, App};
/// # async fn run<A: Addon>(addon: A, dashboard: axum::Router) -> Result<(), addon_runtime::Error> {
/// App::from_env(std::sync::Arc::new(addon)).await?.with_routes(dashboard).serve().await
/// # }
/// ```
///
/// [`App::serve`] is the one way to serve that gives everything: the request log, graceful
/// shutdown on SIGTERM and Ctrl-C, the `HOST`/`PORT` rules and the server's limits. To run the
/// add-on inside an app you already have, pass that app's `Router` (its routes, its state, its
/// fallback, its layers) to [`App::with_routes`] and serve the `App`.
pub struct App<A> {
    core: Arc<Core<A>>,
    vendor_routes: Router,
    run_jobs: bool,
    signed_out: SignedOut,
}

impl<A: Addon> App<A> {
    /// An app with these settings and this registry. Fails if the add-on's declaration breaks a
    /// manifest rule (possible only for hand-written `Addon` impls) or a secret is missing.
    ///
    /// The app holds the add-on behind an `Arc`; keep a clone to share it with your own routes.
    pub fn new(addon: Arc<A>, settings: Settings, store: Store) -> Result<Self, Error> {
        let problems = A::SPEC.problems();
        if !problems.is_empty() {
            return Err(Error::Manifest(problems));
        }
        for (name, value) in [("password", &settings.password), ("sso_salt", &settings.sso_salt)] {
            addon_manifest::rules::check_secret(name, value).map_err(Error::Config)?;
        }
        store.use_api_key(A::SPEC.api_key);
        Ok(Self {
            core: Arc::new(Core::new(addon, settings, store, clock::system())),
            vendor_routes: Router::new(),
            run_jobs: true,
            signed_out: SignedOut::default(),
        })
    }

    /// An app configured from the environment (see the README's table), with the registry
    /// `DATABASE_URL` names (by default a SQLite file named after the add-on). When the add-on
    /// needs the registry to be built, start from [`Runtime::from_env`] instead.
    pub async fn from_env(addon: Arc<A>) -> Result<Self, Error> {
        Runtime::from_env().await?.app(addon)
    }

    /// Adds the vendor's own routes (a dashboard, an API), or the vendor's whole existing app:
    /// any `Router` with its state applied, its own layers, and its own fallback if it has one.
    /// They share the app's layers, so every request is logged, a panic is a JSON 500, and the
    /// [`Session`](crate::Session) extractor works in them.
    ///
    /// Paths that no route knows go to the vendor's fallback; without one, they get the
    /// runtime's JSON 404 (and a wrong method its JSON 405). A route whose path is also one of
    /// Heroku's (`base_path`, `sso_path`) panics here, as axum does for any two routes that
    /// collide; so do two fallbacks passed in separate calls.
    ///
    /// ```no_run
    /// # use addon_runtime::{Addon, App};
    /// # use axum::{routing::get, Router};
    /// # async fn run<A: Addon>(app: App<A>) -> Result<(), addon_runtime::Error> {
    /// let existing = Router::new()
    ///     .route("/health", get(|| async { "ok" }))
    ///     .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "Not here.") });
    /// app.with_routes(existing).serve().await
    /// # }
    /// ```
    pub fn with_routes(mut self, routes: Router) -> Self {
        self.vendor_routes = std::mem::take(&mut self.vendor_routes).merge(routes);
        self
    }

    /// What browsers see without a working session, and after signing out: a built-in page (the
    /// default), a redirect to the vendor's own page, or JSON. Programs always get JSON.
    ///
    /// ```no_run
    /// # use addon_runtime::{Addon, App, SignedOut};
    /// # fn build<A: Addon>(app: App<A>) -> Result<App<A>, addon_runtime::Error> {
    /// Ok(app.with_signed_out(SignedOut::redirect("/signed-out")?))
    /// # }
    /// ```
    pub fn with_signed_out(mut self, signed_out: SignedOut) -> Self {
        self.signed_out = signed_out;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    pub fn store(&self) -> &Store {
        &self.core.store
    }

    /// The Platform API with one resource's OAuth token (for calls outside the completion
    /// methods: collaborators' emails, log drains, webhooks).
    pub fn heroku(&self, uuid: &str) -> HerokuApi {
        self.core.platform.for_resource(uuid)
    }

    /// DigitalOcean's API with one resource's OAuth token (for a resource DigitalOcean
    /// provisioned): set its config vars outside the completion methods.
    pub fn digitalocean(&self, uuid: &str) -> crate::DigitalOceanApi {
        self.core.platform.digitalocean(uuid)
    }

    /// Reads all time from `clock`: SSO windows, session lifetimes, row stamps, job deadlines
    /// and token expiry (tests move a [`ManualClock`](crate::ManualClock) instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        let core = &self.core;
        self.core = Arc::new(Core::new(core.addon.clone(), core.settings.clone(), core.store.clone(), clock));
        self
    }

    /// Serves requests only: this instance's job runner does not start (other instances on the
    /// same registry run the jobs).
    pub fn without_job_runner(mut self) -> Self {
        self.run_jobs = false;
        self
    }

    /// The whole router, with no fallback of its own (unknown paths get JSON from a layer), so it
    /// merges into a router that has one. Starts this instance's job runner, which lives as long
    /// as the router; call it inside a tokio runtime.
    ///
    /// Served this way (`axum::serve`, or merged into another router) it gets none of what
    /// [`App::serve`] adds: the log subscriber, SIGTERM handling, `HOST`/`PORT`, the server's
    /// limits; and routes merged in afterwards get none of the app's layers. Prefer passing the
    /// other router to [`App::with_routes`] and serving the `App`.
    pub fn into_router(self) -> Router {
        if self.run_jobs {
            jobs::spawn(&self.core);
        }
        // Resources recorded before the config index existed get their rows, so their API keys
        // open them; a registry that cannot be read now is indexed at the next start.
        let store = self.core.store.clone();
        tokio::spawn(async move {
            match store.index_unindexed().await {
                Ok(0) => {}
                Ok(count) => {
                    tracing::info!(count, "indexed the config of resources recorded before the index")
                }
                Err(e) => tracing::warn!(error = %e, "could not index older resources' config"),
            }
        });
        let sessions = SessionContext {
            keys: self.core.sessions.clone(),
            store: self.core.store.clone(),
            signed_out: self.signed_out,
            product: A::SPEC.name,
            origin: self.core.settings.public_url_of(&A::SPEC),
        };
        let body_limit = self.core.settings.body_limit;
        let pages = PageHeaders::new(self.core.settings.frame_ancestors.as_deref());
        let mut routes = heroku::routes(self.core.clone());
        if let Some(listing) = A::SPEC.digitalocean {
            routes = routes.merge(digitalocean::routes(self.core.clone(), listing));
        }
        if let Some(osb_routes) = osb::routes(self.core) {
            routes = routes.merge(osb_routes);
        }
        let routes = routes.merge(self.vendor_routes);
        web::around(routes, sessions, body_limit, pages)
    }

    /// Listens on [`Settings::address`] (`HOST:PORT`; by default 127.0.0.1 in development,
    /// 0.0.0.0 in production, and the port the manifest's test URLs name), logging one line per
    /// request, until Ctrl-C or SIGTERM; then stops accepting, answers the requests in progress
    /// and returns `Ok`.
    pub async fn serve(self) -> Result<(), Error> {
        init_logging();
        let address = self.core.settings.address_of(&A::SPEC);
        let listener = TcpListener::bind(&address).await.map_err(|e| {
            Error::Config(format!(
                "could not listen on {}:{} ({e}); set PORT to a free port",
                address.0, address.1
            ))
        })?;
        self.serve_on(listener).await
    }

    /// Serves on a listener the caller bound (port 0 in tests, a socket from a supervisor),
    /// within the server's limits (`Settings::server_limits`: timeouts, connection and request
    /// caps), until Ctrl-C or SIGTERM. A router from [`App::into_router`] served another way
    /// does not get these limits. Logs only once a subscriber is installed: [`App::serve`]
    /// installs one, or call [`init_logging`] first.
    pub async fn serve_on(self, listener: TcpListener) -> Result<(), Error> {
        let address = listener.local_addr()?;
        let limits = self.core.settings.server.clone();
        // Before the listening line: a signal sent as soon as it is printed must stop the
        // server gracefully, not kill the process.
        let shutdown = shutdown();
        tracing::info!(id = A::SPEC.id, mode = ?self.core.settings.mode, "listening on http://{address}");
        let serving = web::serve::serve(listener, self.into_router(), &limits, shutdown);
        web::log_sink::gathering(serving).await?;
        tracing::info!("stopped");
        Ok(())
    }
}

impl<A> fmt::Debug for App<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("settings", &self.core.settings).finish_non_exhaustive()
    }
}

/// The constructors and answers of [`Settings`] that need the add-on's declaration.
impl Settings {
    /// Settings from the process environment.
    pub fn from_env<A: Addon>() -> Result<Self, Error> {
        Self::from_vars::<A>(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Settings from any source of variables (the environment, a test's map).
    pub fn from_vars<A: Addon>(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Self::read(&A::SPEC, var)
    }

    /// The origin users and apps reach this service at: `ADDON_PUBLIC_URL`; else, in production,
    /// the manifest's production URL; else `http://127.0.0.1:<port>`.
    pub fn public_url<A: Addon>(&self) -> String {
        self.public_url_of(&A::SPEC)
    }

    /// The registry's database: `DATABASE_URL`, else a SQLite file named after the add-on
    /// (`<id>.db`) in the working directory.
    pub fn database_url<A: Addon>(&self) -> String {
        self.database_url_of(&A::SPEC)
    }

    /// The host and port [`App::serve`] listens on: `HOST`, else `127.0.0.1` in development and
    /// `0.0.0.0` in production; `PORT`, else the port the declaration's test URLs name. Binds as
    /// it is (`TcpListener::bind(settings.address::<A>())`); IPv6 hosts come without brackets.
    pub fn address<A: Addon>(&self) -> (String, u16) {
        self.address_of(&A::SPEC)
    }
}

/// The settings and the registry, before the add-on exists: for an add-on that needs the
/// registry (its own tables, the vendor pool) to be built. The documented `main` for it:
///
/// ```no_run
/// # use addon_runtime::{Addon, Runtime};
/// # trait New { fn new(pool: sqlx::AnyPool) -> Self; }
/// # async fn main_of<Pingly: Addon + New>(routes: axum::Router) -> Result<(), addon_runtime::Error> {
/// let runtime = Runtime::<Pingly>::from_env().await?;
/// let pingly = Pingly::new(runtime.store().vendor_pool().clone());
/// runtime.serve(pingly, routes).await
/// # }
/// ```
///
/// [`Runtime::app`] gives the [`App`] instead, to set more (a clock, the signed-out pages)
/// before serving it.
pub struct Runtime<A> {
    settings: Settings,
    store: Store,
    addon: PhantomData<fn() -> A>,
}

impl<A: Addon> Runtime<A> {
    /// Installs the log subscriber ([`init_logging`]), reads the settings from the environment
    /// and opens the registry `DATABASE_URL` names (by default a SQLite file named after the
    /// add-on), migrating it.
    pub async fn from_env() -> Result<Self, Error> {
        init_logging();
        let settings = Settings::from_env::<A>()?;
        let store = Store::open_with(&settings.database_url::<A>(), &settings).await?;
        Ok(Self::new(settings, store))
    }

    /// A runtime with settings and a registry opened by the caller (tests, a custom pool).
    pub fn new(settings: Settings, store: Store) -> Self {
        Self { settings, store, addon: PhantomData }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The registry; its [`Store::vendor_pool`] is for the vendor's own tables.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The origin users and apps reach this service at (see [`Settings::public_url`]).
    pub fn public_url(&self) -> String {
        self.settings.public_url::<A>()
    }

    /// The app for `addon` (an `A`, or an `Arc<A>` the vendor's routes share).
    pub fn app(self, addon: impl Into<Arc<A>>) -> Result<App<A>, Error> {
        App::new(addon.into(), self.settings, self.store)
    }

    /// Serves `addon` with `routes` (the vendor's own, or its whole existing app; see
    /// [`App::with_routes`]) as [`App::serve`] does.
    pub async fn serve(self, addon: impl Into<Arc<A>>, routes: Router) -> Result<(), Error> {
        self.app(addon)?.with_routes(routes).serve().await
    }
}

impl<A> fmt::Debug for Runtime<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("settings", &self.settings).field("store", &self.store).finish()
    }
}

/// Serves an add-on configured from the environment: the one-line `main`.
pub async fn serve<A: Addon>(addon: A) -> Result<(), Error> {
    init_logging();
    App::from_env(Arc::new(addon)).await?.serve().await
}

/// Logs to standard output, filtered by `RUST_LOG` (default `info`), one line per event: every
/// field's control characters (CR, LF, escape sequences) are escaped, so a value from a request
/// cannot forge a line. Does nothing if the program already installed a subscriber. [`serve`]
/// and [`App::serve`] call it; call it yourself before [`App::serve_on`].
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(web::log_format::EscapedFields)
        .with_writer(web::log_sink::GatheredStdout);
    // A terminal gets tracing's colours; a log collector gets the same text without them, in
    // the format that names the request without a span per request (`web::trace`).
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        let _ = builder.with_ansi(true).try_init();
    } else if builder.with_ansi(false).event_format(web::log_format::PlainFormat).try_init().is_ok() {
        web::log_sink::set_plain();
    }
}

/// Resolves on the first Ctrl-C or SIGTERM (how Heroku and most supervisors stop a process).
/// The handlers are installed when this is called, not when it is first polled.
fn shutdown() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    };
    async move {
        #[cfg(unix)]
        let which = match signals {
            (Ok(mut terminate), Ok(mut interrupt)) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "Ctrl-C",
            },
            _ => {
                tracing::warn!("could not listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                "Ctrl-C"
            }
        };
        #[cfg(not(unix))]
        let which = {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        };
        tracing::info!(
            signal = which,
            "shutting down: no new connections; answering the requests in progress"
        );
    }
}
