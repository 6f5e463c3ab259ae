//! The application: an [`Addon`], its settings and the vendor's own routes, served over HTTP.

use std::fmt;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::clock::{Clock, SystemClock};
use crate::locks::KeyedLocks;
use crate::platform::{HerokuApi, Platform};
use crate::session::SessionKeys;
use crate::{Addon, Error, Mode, Settings, SignedOut, Store};

/// What every request handler shares.
pub(crate) struct Shared<A> {
    pub(crate) addon: Arc<A>,
    pub(crate) store: Store,
    pub(crate) locks: KeyedLocks,
    pub(crate) settings: Settings,
    pub(crate) sessions: SessionKeys,
    pub(crate) platform: Arc<Platform>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl<A> Shared<A> {
    /// How long one operation may hold a resource: the vendor's time limit and a margin for the
    /// database work around it. A lease older than this was left by a process that died.
    pub(crate) fn lease(&self) -> std::time::Duration {
        self.settings.handler_timeout + std::time::Duration::from_secs(2)
    }

    /// How long a request waits for another one's claim or lease on the same resource: long
    /// enough to outlast the lease of a process that died holding it, and then take over.
    pub(crate) fn patience(&self) -> std::time::Duration {
        self.lease() * 2
    }

    /// How long a job runner holds a job: its time limit and a margin. A job whose runner died
    /// is claimed again after this.
    pub(crate) fn job_lease(&self) -> std::time::Duration {
        self.settings.job_timeout + std::time::Duration::from_secs(2)
    }
}

/// An add-on service, ready to serve or to merge into a larger axum app.
///
/// ```no_run
/// # use addon_runtime::{Addon, App};
/// # async fn run<A: Addon>(addon: A, dashboard: axum::Router) -> Result<(), addon_runtime::Error> {
/// App::from_env(std::sync::Arc::new(addon)).await?.with_routes(dashboard).serve().await
/// # }
/// ```
pub struct App<A> {
    shared: Arc<Shared<A>>,
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
        let sessions =
            SessionKeys::new(&settings.session_key, settings.session_ttl, settings.mode == Mode::Production);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let platform = Arc::new(Platform::new(&settings, store.clone(), clock.clone()));
        let shared =
            Shared { addon, store, locks: KeyedLocks::default(), settings, sessions, platform, clock };
        Ok(Self {
            shared: Arc::new(shared),
            vendor_routes: Router::new(),
            run_jobs: true,
            signed_out: SignedOut::default(),
        })
    }

    /// An app configured from the environment (see the README's table), with the registry
    /// `DATABASE_URL` names (by default a SQLite file named after the add-on).
    pub async fn from_env(addon: Arc<A>) -> Result<Self, Error> {
        let settings = Settings::from_env::<A>()?;
        let store = Store::open(&settings.database_url::<A>()).await?;
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
        &self.shared.settings
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The Platform API with one resource's OAuth token (for calls outside the completion
    /// methods: collaborators' emails, log drains, webhooks).
    pub fn heroku(&self, uuid: &str) -> HerokuApi {
        self.shared.platform.for_resource(uuid)
    }

    /// Reads time from `clock` for jobs and tokens (tests move a [`ManualClock`](crate::ManualClock)
    /// forward by hours).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        let shared =
            Arc::get_mut(&mut self.shared).expect("an app that has not started serving is not shared");
        shared.clock = clock.clone();
        shared.platform = Arc::new(Platform::new(&shared.settings, shared.store.clone(), clock));
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
            crate::jobs::spawn(&self.shared);
        }
        crate::http::router::build(self.shared, self.vendor_routes, self.signed_out)
    }

    /// Listens on `HOST:PORT` (by default 127.0.0.1 in development, 0.0.0.0 in production, and the
    /// port the manifest's test URLs name) until Ctrl-C or SIGTERM.
    pub async fn serve(self) -> Result<(), Error> {
        init_logging();
        let settings = &self.shared.settings;
        let address = (settings.host.clone(), settings.port.unwrap_or(A::SPEC.port));
        let listener = TcpListener::bind(&address).await.map_err(|e| {
            Error::Config(format!(
                "could not listen on {}:{} ({e}); set PORT to a free port",
                address.0, address.1
            ))
        })?;
        self.serve_on(listener).await
    }

    /// Serves on a listener the caller bound (port 0 in tests, a socket from a supervisor).
    pub async fn serve_on(self, listener: TcpListener) -> Result<(), Error> {
        let address = listener.local_addr()?;
        tracing::info!(id = A::SPEC.id, mode = ?self.shared.settings.mode, "listening on http://{address}");
        axum::serve(listener, self.into_router()).with_graceful_shutdown(shutdown()).await?;
        tracing::info!("stopped");
        Ok(())
    }
}

impl<A> fmt::Debug for App<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("settings", &self.shared.settings).finish_non_exhaustive()
    }
}

/// Serves an add-on configured from the environment: the one-line `main`.
pub async fn serve<A: Addon>(addon: A) -> Result<(), Error> {
    init_logging();
    App::from_env(Arc::new(addon)).await?.serve().await
}

/// Logs to standard output, filtered by `RUST_LOG` (default `info`). Does nothing if the
/// program already installed a subscriber.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).try_init();
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
