//! The application: an [`Addon`], its settings and the vendor's own routes, served over HTTP.

use std::fmt;
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
use crate::{heroku, web};

/// An add-on service, ready to serve or to merge into a larger axum app.
///
/// ```no_run
/// # use addon_runtime::{Addon, App};
/// # async fn run<A: Addon>(addon: A, dashboard: axum::Router) -> Result<(), addon_runtime::Error> {
/// App::from_env(std::sync::Arc::new(addon)).await?.with_routes(dashboard).serve().await
/// # }
/// ```
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
        Ok(Self {
            core: Arc::new(Core::new(addon, settings, store, clock::system())),
            vendor_routes: Router::new(),
            run_jobs: true,
            signed_out: SignedOut::default(),
        })
    }

    /// An app configured from the environment (see the README's table), with the registry
    /// `DATABASE_URL` names (by default a SQLite file named after the add-on).
    pub async fn from_env(addon: Arc<A>) -> Result<Self, Error> {
        let settings = Settings::from_env::<A>()?;
        let store = Store::open_with(&settings.database_url::<A>(), &settings).await?;
        Self::new(addon, settings, store)
    }

    /// Adds the vendor's own routes (a dashboard, an API). They share the app's layers, so the
    /// [`Session`](crate::Session) extractor works in them.
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

    /// The whole router, to serve with axum or nest in a larger app. Starts this instance's
    /// job runner, which lives as long as the router; call it inside a tokio runtime.
    pub fn into_router(self) -> Router {
        if self.run_jobs {
            jobs::spawn(&self.core);
        }
        let sessions = SessionContext {
            keys: self.core.sessions.clone(),
            store: self.core.store.clone(),
            signed_out: self.signed_out,
            product: A::SPEC.name,
            origin: self.core.settings.public_url_of(&A::SPEC),
        };
        let body_limit = self.core.settings.body_limit;
        let pages = PageHeaders::new(self.core.settings.frame_ancestors.as_deref());
        let routes = heroku::routes(self.core).merge(self.vendor_routes);
        web::around(routes, sessions, body_limit, pages)
    }

    /// Listens on `HOST:PORT` (by default 127.0.0.1 in development, 0.0.0.0 in production, and the
    /// port the manifest's test URLs name) until Ctrl-C or SIGTERM.
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
    /// does not get these limits.
    pub async fn serve_on(self, listener: TcpListener) -> Result<(), Error> {
        let address = listener.local_addr()?;
        let limits = self.core.settings.server.clone();
        tracing::info!(id = A::SPEC.id, mode = ?self.core.settings.mode, "listening on http://{address}");
        web::serve::serve(listener, self.into_router(), &limits, shutdown()).await?;
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
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .fmt_fields(web::trace::EscapedFields)
        .try_init();
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
