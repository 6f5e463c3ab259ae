//! [`FakeHeroku`]: Heroku's OAuth token endpoint and the Platform API calls an add-on makes.
//!
//! ```no_run
//! # async fn demo() {
//! use addon_testing::FakeHeroku;
//! let heroku = FakeHeroku::start("client-secret").await;
//! let code = heroku.grant("01234567-89ab-cdef-0123-456789abcdef");
//! // provision with `oauth_grant.code = code`, settings `with_heroku_urls(heroku.url(), heroku.url())`...
//! assert!(heroku.wait_for_state("01234567-89ab-cdef-0123-456789abcdef", "provisioned", std::time::Duration::from_secs(10)).await);
//! # }
//! ```

mod routes;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One request the fake received.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Call {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: String,
    /// The path (without the query).
    pub path: String,
    /// The body, as text.
    pub body: String,
    /// The status the fake answered.
    pub status: u16,
    /// For Platform API calls: whether the bearer token came from a refresh.
    pub refreshed_token: bool,
}

/// A failure the fake injects into the next matching requests.
#[derive(Clone, Debug)]
struct Injected {
    path_contains: String,
    remaining: usize,
    status: u16,
    retry_after: Option<u64>,
    delay: Option<Duration>,
}

#[derive(Debug)]
struct Token {
    uuid: String,
    expires: Instant,
    from_refresh: bool,
}

#[derive(Debug, Default)]
struct State {
    client_secret: String,
    grants: HashMap<String, String>,
    tokens: HashMap<String, Token>,
    refresh_tokens: HashMap<String, String>,
    token_lifetime: Option<Duration>,
    calls: Vec<Call>,
    injected: Vec<Injected>,
    config: HashMap<String, BTreeMap<String, Option<String>>>,
    addon_state: HashMap<String, String>,
    next: u64,
}

/// Heroku's OAuth server and Platform API, faked on 127.0.0.1.
#[derive(Clone)]
pub struct FakeHeroku {
    url: String,
    state: Arc<Mutex<State>>,
}

// The state holds grant codes and tokens: `Debug` shows where the fake is, nothing more.
impl std::fmt::Debug for FakeHeroku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHeroku").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeHeroku {
    /// Starts the fake on a free loopback port; `client_secret` is the add-on's OAuth client
    /// secret it accepts.
    pub async fn start(client_secret: &str) -> FakeHeroku {
        Self::start_on_port(0, client_secret).await.expect("a free loopback port")
    }

    /// Starts the fake on 127.0.0.1:`port`, for an add-on started beforehand with
    /// `HEROKU_API_URL` and `HEROKU_OAUTH_URL` pointing there.
    pub async fn start_on_port(port: u16, client_secret: &str) -> std::io::Result<FakeHeroku> {
        let state =
            Arc::new(Mutex::new(State { client_secret: client_secret.to_owned(), ..State::default() }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = routes::router(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(FakeHeroku { url, state })
    }

    /// The base URL, for both `HEROKU_API_URL` and `HEROKU_OAUTH_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Issues an OAuth grant code for a resource, as Heroku puts in a provision request; the
    /// add-on resource starts in the `provisioning` state.
    pub fn grant(&self, uuid: &str) -> String {
        let mut state = self.lock();
        state.next += 1;
        let code = format!("grant-{}-{uuid}", state.next);
        state.grants.insert(code.clone(), uuid.to_owned());
        state.addon_state.insert(uuid.to_owned(), "provisioning".to_owned());
        code
    }

    /// How long the access tokens issued for a grant last (Heroku: eight hours); zero makes
    /// them expired at once, so the add-on must refresh before its first call. Refreshed tokens
    /// last the usual eight hours.
    pub fn set_grant_token_lifetime(&self, lifetime: Duration) {
        self.lock().token_lifetime = Some(lifetime);
    }

    /// The next `times` requests whose path contains `path` get `status` (a 429 carries
    /// `Retry-After: 1`).
    pub fn fail_next(&self, path: &str, times: usize, status: u16) {
        let retry_after = (status == 429).then_some(1);
        self.inject(Injected {
            path_contains: path.to_owned(),
            remaining: times,
            status,
            retry_after,
            delay: None,
        });
    }

    /// The next `times` requests whose path contains `path` are answered only after `delay`.
    pub fn delay_next(&self, path: &str, times: usize, delay: Duration) {
        self.inject(Injected {
            path_contains: path.to_owned(),
            remaining: times,
            status: 0,
            retry_after: None,
            delay: Some(delay),
        });
    }

    fn inject(&self, injected: Injected) {
        self.lock().injected.push(injected);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls so far had `method` and a path containing `path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.method == method && c.path.contains(path)).count()
    }

    /// The config vars set on a resource through `PATCH /addons/{uuid}/config`.
    pub fn config(&self, uuid: &str) -> BTreeMap<String, Option<String>> {
        self.lock().config.get(uuid).cloned().unwrap_or_default()
    }

    /// The add-on's state as Heroku sees it: `provisioning`, `provisioned`, `deprovisioned`.
    pub fn addon_state(&self, uuid: &str) -> Option<String> {
        self.lock().addon_state.get(uuid).cloned()
    }

    /// Waits (at most `timeout`) until the add-on reaches `state`; whether it did.
    pub async fn wait_for_state(&self, uuid: &str, state: &str, timeout: Duration) -> bool {
        crate::eventually(timeout, async || self.addon_state(uuid).as_deref() == Some(state)).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
