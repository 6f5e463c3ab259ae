//! The lifecycle core: provision, plan change, deprovision, sign-in and the job runner, as an
//! idempotent state machine over protocol-neutral requests and outcomes. Adapters (Heroku's v3
//! HTTP API today) parse their marketplace's requests into these types and write the outcomes
//! back in their own shapes; nothing here knows axum or a route.
//!
//! Every call goes through the registry before it reaches the vendor: a provision claims its
//! uuid (or finds the recorded answer), a plan change or deprovision takes the resource's
//! lease. The work runs detached from the client's connection, so a claim or lease is always
//! completed or undone.

pub(crate) mod deprovision;
pub(crate) mod jobs;
mod leases;
pub(crate) mod notices;
pub(crate) mod plan_change;
pub(crate) mod provision;
pub(crate) mod sign_in;

#[cfg(test)]
mod marketplace_tests;

use std::sync::Arc;
use std::time::Duration;

use crate::base::cipher::Keyring;
use crate::base::clock::SharedClock;
use crate::base::settings::Settings;
use crate::services::locks::KeyedLocks;
use crate::services::platform::Platform;
use crate::services::sessions::SessionKeys;
use crate::services::store::Store;

/// Everything the lifecycle works with, shared by every request and the job runner.
pub(crate) struct Core<A> {
    pub(crate) addon: Arc<A>,
    pub(crate) store: Store,
    pub(crate) locks: KeyedLocks,
    pub(crate) settings: Settings,
    pub(crate) sessions: SessionKeys,
    pub(crate) platform: Arc<Platform>,
    pub(crate) clock: SharedClock,
}

impl<A> Core<A> {
    /// A core whose every part reads time from `clock`.
    pub(crate) fn new(addon: Arc<A>, settings: Settings, store: Store, clock: SharedClock) -> Self {
        let store = store.with_clock(clock.clone());
        let production = settings.mode == crate::base::settings::Mode::Production;
        let sessions =
            SessionKeys::new(&settings.session_key, settings.session_ttl, production, clock.clone())
                .with_previous(&settings.previous_session_keys);
        let keyring = Keyring::new(&settings.token_key, &settings.previous_token_keys);
        tracing::debug!(
            key_id = keyring.current_id(),
            previous_keys = settings.previous_token_keys.len(),
            "registry secrets are sealed with this key"
        );
        store.use_keyring(keyring.clone());
        let platform = Arc::new(Platform::new(&settings, store.clone(), keyring, clock.clone()));
        Core { addon, store, locks: KeyedLocks::default(), settings, sessions, platform, clock }
    }

    /// How long one operation may hold a resource: the vendor's time limit and a margin for the
    /// database work around it. A lease older than this was left by a process that died.
    pub(crate) fn lease(&self) -> Duration {
        self.settings.handler_timeout + Duration::from_secs(2)
    }

    /// How long a request waits for another one's claim or lease on the same resource: long
    /// enough to outlast the lease of a process that died holding it, and then take over.
    pub(crate) fn patience(&self) -> Duration {
        self.lease() * 2
    }

    /// How long a job runner holds a job: its time limit and a margin. A job whose runner died
    /// is claimed again after this.
    pub(crate) fn job_lease(&self) -> Duration {
        self.settings.job_timeout + Duration::from_secs(2)
    }
}
