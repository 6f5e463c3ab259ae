//! The prober: a background task that checks every monitor's URL on an interval, each with a
//! timeout, and records the status and latency. It ends when the add-on is dropped.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use addon_runtime::Store;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use crate::monitors::{self, Check};
use crate::Pingly;

/// How many URLs are probed at once: a slow target holds one slot for at most the timeout.
const CONCURRENT_PROBES: usize = 32;

/// How often, and how patiently, monitors are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probing {
    /// Between the starts of two rounds over every monitor.
    pub interval: Duration,
    /// How long a target has to answer before the check records it as down (status 0).
    pub timeout: Duration,
}

impl Default for Probing {
    /// A round a minute, 10 seconds per target.
    fn default() -> Self {
        Self { interval: Duration::from_secs(60), timeout: Duration::from_secs(10) }
    }
}

impl Probing {
    /// `PINGLY_PROBE_INTERVAL_MS` and `PINGLY_PROBE_TIMEOUT_MS` from `var`, else the defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, addon_runtime::Error> {
        let millis = |name: &str, default: Duration| match var(name) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(addon_runtime::Error::Config(format!(
                    "{name} must be a whole number of milliseconds above 0, not `{value}`"
                ))),
            },
        };
        let defaults = Self::default();
        Ok(Self {
            interval: millis("PINGLY_PROBE_INTERVAL_MS", defaults.interval)?,
            timeout: millis("PINGLY_PROBE_TIMEOUT_MS", defaults.timeout)?,
        })
    }
}

/// Starts probing `pingly`'s monitors with its [`Probing`]; the task ends once the add-on is
/// dropped (it holds only a weak reference between rounds).
pub fn spawn_prober(pingly: &Arc<Pingly>) -> JoinHandle<()> {
    let probing = pingly.probing;
    let client = reqwest::Client::builder()
        .timeout(probing.timeout)
        // A redirect is an answer: a 301 means the target is up.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Pingly/", env!("CARGO_PKG_VERSION"), " (uptime monitor)"))
        .build()
        .expect("a client with a timeout and rustls builds");
    let pingly: Weak<Pingly> = Arc::downgrade(pingly);
    tokio::spawn(async move {
        let mut rounds = tokio::time::interval(probing.interval);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            rounds.tick().await;
            let Some(pingly) = pingly.upgrade() else { return };
            probe_all(&pingly.store, &client).await;
        }
    })
}

async fn probe_all(store: &Store, client: &reqwest::Client) {
    let targets = match monitors::all_targets(store).await {
        Ok(targets) => targets,
        Err(error) => {
            tracing::warn!(%error, "could not read the monitors; trying again next round");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(CONCURRENT_PROBES));
    let mut probes = JoinSet::new();
    for (id, url) in targets {
        let Ok(slot) = slots.clone().acquire_owned().await else { break };
        let client = client.clone();
        probes.spawn(async move {
            let check = probe(&client, &url).await;
            drop(slot);
            (id, check)
        });
    }
    while let Some(done) = probes.join_next().await {
        let Ok((id, check)) = done else { continue };
        // The monitor's id only: its URL may carry a token in its query.
        if let Err(error) = monitors::record(store, id, &check).await {
            tracing::warn!(monitor = id, %error, "could not record a check");
        }
    }
}

/// One GET of `url`: its status, or 0 if it did not answer within the client's timeout.
async fn probe(client: &reqwest::Client, url: &str) -> Check {
    let started = Instant::now();
    let status = match client.get(url).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    Check {
        status,
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        checked_at: monitors::now_micros(),
    }
}
