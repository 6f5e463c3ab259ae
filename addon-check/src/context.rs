//! What the checks share: the manifest, Heroku's side (the simulator, and a fake Platform API
//! when asked for), the plans to use, and every answer's time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use addon_manifest::Manifest;
use addon_testing::{FakeHeroku, Simulator};

use crate::Outcome;

/// Heroku waits this long for an answer before it fails the call (v1 documentation).
const MUST_ANSWER: Duration = Duration::from_secs(25);
/// ... and asks for answers within this.
const SHOULD_ANSWER: Duration = Duration::from_secs(3);

/// What the command line says.
#[derive(Clone, Debug)]
pub struct Options {
    /// The manifest's text.
    pub manifest: String,
    /// Where the add-on runs, instead of the manifest's test URLs' origin.
    pub url: Option<String>,
    /// Plans to provision with; the second, if any, is used for the plan change. Empty: the
    /// checker learns them from the add-on's refusal of a plan that cannot exist.
    pub plans: Vec<String>,
    /// Serve a fake Platform API and OAuth server on this loopback port (the add-on must have been
    /// started with `HEROKU_API_URL` and `HEROKU_OAUTH_URL` pointing there).
    pub heroku_port: Option<u16>,
    /// The client secret the fake accepts.
    pub oauth_secret: String,
    /// Allow an add-on that is not on this machine.
    pub allow_remote: bool,
    /// Play DigitalOcean instead of Heroku (`--marketplace digitalocean`).
    pub digitalocean: Option<DigitalOceanOptions>,
}

/// What the DigitalOcean mode needs beyond the manifest: the routes' prefix, the slug and the two
/// secrets DigitalOcean's vendor portal gives.
#[derive(Clone)]
pub struct DigitalOceanOptions {
    /// Such as `/digitalocean`.
    pub base_path: String,
    /// The Basic auth user; `None` means the manifest's id.
    pub slug: Option<String>,
    pub password: String,
    pub sso_salt: String,
}

// Holds the password and the salt.
impl std::fmt::Debug for DigitalOceanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigitalOceanOptions")
            .field("base_path", &self.base_path)
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manifest: String::new(),
            url: None,
            plans: Vec::new(),
            heroku_port: None,
            oauth_secret: "addon-check-client-secret".to_owned(),
            allow_remote: false,
            digitalocean: None,
        }
    }
}

/// Told the name of each check as it starts.
pub(crate) type Progress = Box<dyn FnMut(&str) + Send>;

pub struct Context {
    pub manifest: Manifest,
    pub heroku: Simulator,
    pub fake: Option<FakeHeroku>,
    /// The plans the checks provision with; empty when none could be learned or given.
    pub plans: Vec<String>,
    times: Mutex<Vec<(String, Duration)>>,
    progress: Mutex<Progress>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("manifest", &self.manifest)
            .field("heroku", &self.heroku)
            .field("fake", &self.fake)
            .field("plans", &self.plans)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) async fn new(options: Options, progress: Progress) -> Result<Context, String> {
        let manifest = Manifest::from_json(&options.manifest)
            .map_err(|e| format!("the manifest is not valid JSON: {e}"))?;
        let mut heroku = Simulator::from_manifest(&manifest)?;
        if let Some(url) = &options.url {
            heroku = heroku.at(url.clone());
        }
        heroku.client = pinned_client(&heroku.url, options.allow_remote).await?;
        let fake = match options.heroku_port {
            Some(port) => Some(
                FakeHeroku::start_on_port(port, &options.oauth_secret)
                    .await
                    .map_err(|e| format!("could not serve the fake Platform API on port {port}: {e}"))?,
            ),
            None => None,
        };
        Ok(Context {
            manifest,
            heroku,
            fake,
            plans: options.plans,
            times: Mutex::default(),
            progress: Mutex::new(progress),
        })
    }

    /// Says that the check `name` starts now.
    pub(crate) fn step(&self, name: &str) {
        (self.progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner))(name);
    }

    /// Sends a request, timing it; `None` if the add-on did not answer at all.
    pub async fn timed(&self, what: &str, request: reqwest::RequestBuilder) -> Option<reqwest::Response> {
        let started = Instant::now();
        let response = request.send().await.ok();
        self.record_time(what, started.elapsed());
        response
    }

    /// Counts an answer's time in the latency check.
    pub fn record_time(&self, what: &str, time: Duration) {
        self.times.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((what.to_owned(), time));
    }

    /// The plan to provision with; a slug no add-on offers when there is none, for the checks
    /// whose answer does not depend on it (credentials, malformed bodies).
    pub fn plan(&self) -> &str {
        self.plans.first().map_or(crate::checks::plans::NO_SUCH_PLAN, String::as_str)
    }

    pub fn requires(&self, flag: &str) -> bool {
        self.manifest.api.requires.iter().any(|r| r == flag)
    }

    /// Every answer within Heroku's limits.
    pub fn latency_outcome(&self) -> Outcome {
        let times = self.times.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((slowest, time)) = times.iter().max_by_key(|(_, t)| *t) else {
            return Outcome::warn(
                "latency",
                "no request was timed",
                "run the checks against a running add-on",
            );
        };
        let detail = format!("{} answers, slowest {} ms ({slowest})", times.len(), time.as_millis());
        if *time > MUST_ANSWER {
            Outcome::fail(
                "latency",
                detail,
                "Heroku gives up after 25 s: answer 202 and finish in the background",
            )
        } else if *time > SHOULD_ANSWER {
            Outcome::warn(
                "latency",
                detail,
                "Heroku asks for answers within 3 s: move slow work to asynchronous provisioning",
            )
        } else {
            Outcome::pass("latency", detail)
        }
    }
}

/// The kit's client (redirects not followed, 30 s), with the add-on's host name pinned to the
/// loopback addresses the guard saw: a second lookup cannot send the requests elsewhere.
async fn pinned_client(target: &str, allow_remote: bool) -> Result<reqwest::Client, String> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    let url = crate::guard::parse_target(target)?;
    let builder = match (url.host(), allow_remote) {
        (Some(url::Host::Domain(name)), false) => {
            builder.resolve_to_addrs(name, &crate::guard::loopback_addresses(&url).await?)
        }
        (_, false) => {
            crate::guard::loopback_addresses(&url).await?;
            builder
        }
        (_, true) => builder,
    };
    builder.build().map_err(|e| format!("the HTTP client does not build: {e}"))
}
