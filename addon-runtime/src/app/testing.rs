//! A test kit that starts everything (feature `testing`): the `addon-testing` crate (Heroku's
//! side: [`Simulator`], [`FakeHeroku`], signers and helpers, `reqwest` and `serde_json`), and
//! [`TestApp`], an add-on served on a free loopback port with a throwaway registry.
//!
//! ```no_run
//! # use addon_runtime::Addon;
//! # async fn demo<A: Addon>(addon: A) {
//! use addon_runtime::testing::{new_uuid, v3_body, TestApp};
//!
//! let app = TestApp::start(addon).await;
//! let response = app.provision(&v3_body(&new_uuid(), "test")).await;
//! assert_eq!(response.status(), 200);
//! // Dropping `app` stops the server and removes its registry.
//! # }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use addon_testing::*;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::base::settings::Settings;
use crate::services::store::{Backend, Store};
use crate::services::vendor::addon::Addon;

/// The PostgreSQL server the tests use, if any: each [`TestDatabase`] is then a fresh database
/// on it.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A registry of a test's own, removed when its last clone drops (a [`TestApp`] served on it
/// holds one): a SQLite file in a fresh temporary directory (the directory goes, with the `-wal`
/// and `-shm` files), or a fresh database on the PostgreSQL server `TEST_DATABASE_URL` names
/// (dropped, its connections ended).
#[derive(Clone)]
pub struct TestDatabase(Arc<Registry>);

struct Registry {
    url: String,
    backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Database { server_url: String, name: String },
}

impl TestDatabase {
    /// PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
    pub async fn new() -> TestDatabase {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(url) if !url.is_empty() => Self::postgres_on(&url).await,
            _ => Self::sqlite(),
        }
    }

    /// A SQLite file in a temporary directory of its own.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("addon-test-{}", random_name()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("could not create a temporary directory {}: {e}", dir.display()));
        let url = format!("sqlite://{}", dir.join("registry.db").display());
        TestDatabase(Arc::new(Registry { url, backend: Backend::Sqlite, cleanup: Cleanup::Directory(dir) }))
    }

    /// A fresh database on the PostgreSQL server `TEST_DATABASE_URL` names. Panics without it:
    /// a test that needs PostgreSQL fails rather than skips.
    pub async fn postgres() -> TestDatabase {
        let url = std::env::var(TEST_DATABASE_URL).ok().filter(|u| !u.is_empty()).expect(
            "TEST_DATABASE_URL is not set: point it at a PostgreSQL server this test may create \
             databases on (the workspace's `scripts/with-postgres.sh` starts one)",
        );
        Self::postgres_on(&url).await
    }

    async fn postgres_on(server_url: &str) -> TestDatabase {
        use sqlx::Connection;
        let name = format!("addon_test_{}", random_name());
        let mut url = reqwest::Url::parse(server_url)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not a URL ({e})"));
        url.set_path(&format!("/{name}"));
        let mut admin = sqlx::PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|e| panic!("could not connect to TEST_DATABASE_URL's server: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("could not create the test database {name}: {e}"));
        let _ = admin.close().await;
        TestDatabase(Arc::new(Registry {
            url: url.to_string(),
            backend: Backend::Postgres,
            cleanup: Cleanup::Database { server_url: server_url.to_owned(), name },
        }))
    }

    /// The registry's URL, for [`Store::open`] or a `DATABASE_URL` of a process a test starts.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// A new store on this registry (each call another instance's pools).
    pub async fn store(&self) -> Store {
        Store::open(self.url())
            .await
            .unwrap_or_else(|e| panic!("could not open the test registry ({:?}): {e}", self.backend()))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { server_url, name } => drop_database(server_url, name),
        }
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("TestDatabase").field("backend", &self.backend()).finish_non_exhaustive()
    }
}

/// Drops a test database, ending the connections still open on it. `Drop` cannot wait on the
/// test's runtime, so this runs on a thread and a runtime of its own.
fn drop_database(server_url: &str, name: &str) {
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let server_url = server_url.to_owned();
    let dropped = std::thread::spawn(move || {
        use sqlx::Connection;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&server_url).await?;
            sqlx::query(&statement).execute(&mut admin).await?;
            admin.close().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
    })
    .join();
    if let Ok(Err(error)) = dropped {
        eprintln!("could not drop the test database {name}: {error}");
    }
}

fn random_name() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An add-on served on `127.0.0.1` at a free port, with Heroku's side pointed at it. Through
/// `Deref`, `app.provision(..)` speaks as Heroku does ([`Simulator`]). Dropping it stops the
/// server and removes the registry it created.
pub struct TestApp {
    /// Heroku calling the add-on, with its id, password and SSO salt.
    pub heroku: Simulator,
    /// DigitalOcean calling the app, when the add-on declares `digitalocean(...)`.
    pub digitalocean: Option<DigitalOcean>,
    /// The app's registry (and, through [`Store::vendor_pool`], the vendor's tables).
    pub store: Store,
    /// The origin the add-on listens on, such as `http://127.0.0.1:41234`.
    pub url: String,
    /// A client for the vendor's own routes: redirects not followed, no cookies kept.
    pub client: reqwest::Client,
    server: JoinHandle<Result<(), crate::Error>>,
    // Declared after `server` so the server stops before its registry goes.
    database: Option<TestDatabase>,
}

impl TestApp {
    /// Serves `addon` with development settings and fresh random secrets, on a throwaway
    /// registry ([`TestDatabase::new`]).
    pub async fn start<A: Addon>(addon: A) -> TestApp {
        let settings = Self::settings();
        Self::build(async move |store| App::new(Arc::new(addon), settings, store)).await
    }

    /// Serves the app `build` makes from a throwaway registry's store: for an add-on that
    /// needs the store before the app exists, or other settings and routes.
    ///
    /// ```no_run
    /// # use addon_runtime::{Addon, App};
    /// # async fn demo<A: Addon>(addon: std::sync::Arc<A>) {
    /// use addon_runtime::testing::TestApp;
    ///
    /// let settings = TestApp::settings().with_sso_single_use(true);
    /// let app = TestApp::build(async |store| App::new(addon, settings, store)).await;
    /// # }
    /// ```
    pub async fn build<A, E>(build: impl AsyncFnOnce(Store) -> Result<App<A>, E>) -> TestApp
    where
        A: Addon,
        E: fmt::Display,
    {
        Self::build_on(&TestDatabase::new().await, build).await
    }

    /// [`TestApp::build`] on a registry the test chose (SQLite or PostgreSQL, or one several
    /// apps share as instances); the app holds it until dropped.
    pub async fn build_on<A, E>(
        database: &TestDatabase,
        build: impl AsyncFnOnce(Store) -> Result<App<A>, E>,
    ) -> TestApp
    where
        A: Addon,
        E: fmt::Display,
    {
        let app =
            build(database.store().await).await.unwrap_or_else(|e| panic!("the app could not be built: {e}"));
        let mut served = Self::serve(app).await;
        served.database = Some(database.clone());
        served
    }

    /// Serves an app the test assembled on a store of its own (which the test then removes).
    pub async fn serve<A: Addon>(app: App<A>) -> TestApp {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.expect("a free port on 127.0.0.1 for the add-on");
        let address = listener.local_addr().expect("the listener's address");
        let url = format!("http://{address}");
        let settings = app.settings();
        let manifest = A::SPEC.manifest(&settings.password, &settings.sso_salt);
        let heroku = Simulator::from_manifest(&manifest).expect("a manifest with test URLs").at(&url);
        let digitalocean = A::SPEC.digitalocean.map(|listing| {
            let (password, salt) = settings.digitalocean_secrets();
            DigitalOcean::new(&url, listing.base_path, listing.slug_or(A::SPEC.id), password, salt)
        });
        let store = app.store().clone();
        let server = tokio::spawn(app.serve_on(listener));
        TestApp { heroku, digitalocean, store, url, client: client(), server, database: None }
    }

    /// Development settings with fresh random secrets: what [`TestApp::start`] serves with.
    pub fn settings() -> Settings {
        Settings::development(crate::random_secret(), crate::random_secret())
    }

    /// The registry this app is served on, unless the test brought its own store
    /// ([`TestApp::serve`]): to open another instance's store on it, or pass its URL on.
    pub fn database(&self) -> Option<&TestDatabase> {
        self.database.as_ref()
    }
}

impl TestApp {
    /// DigitalOcean calling the app; panics if the add-on does not declare `digitalocean(...)`.
    pub fn digitalocean(&self) -> &DigitalOcean {
        self.digitalocean.as_ref().expect("the add-on declares `digitalocean(...)`")
    }
}

impl std::ops::Deref for TestApp {
    type Target = Simulator;

    fn deref(&self) -> &Simulator {
        &self.heroku
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("url", &self.url)
            .field("store", &self.store)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}
