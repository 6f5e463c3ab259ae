use std::future::Future;

use addon_manifest::Requirement;

use crate::{
    AddonError, Config, DeprovisionJob, DeprovisionRequest, Deprovisioned, PlanChangeJob, PlanChangeRequest,
    PlanChanged, ProvisionJob, ProvisionRequest, Provisioned, SsoLogin, SsoRedirect,
};

/// A Heroku add-on: its manifest and the vendor's answers to Heroku's calls.
///
/// `#[heroku_addon]` implements this trait; it can also be written by hand. The runtime does
/// everything around these methods (authentication, parsing, idempotency, SSO checks), so an
/// implementation holds only the vendor's own logic.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Heroku add-on",
    label = "no `#[heroku_addon(...)]` impl block for `{Self}`",
    note = "annotate an `impl {Self}` block with `#[heroku_addon(...)]`, or implement `addon_runtime::Addon` by hand"
)]
pub trait Addon: Send + Sync + 'static {
    /// What the manifest says: id, config vars, regions, URLs.
    const SPEC: AddonSpec;

    /// Creates the resource Heroku asks for. Called once per `uuid`: replays get the recorded answer.
    fn provision(
        &self,
        request: ProvisionRequest,
    ) -> impl Future<Output = Result<Provisioned, AddonError>> + Send;

    /// Moves a resource to another plan. Not called when the plan is already the current one.
    fn plan_change(
        &self,
        request: PlanChangeRequest,
    ) -> impl Future<Output = Result<PlanChanged, AddonError>> + Send;

    /// Removes a resource. Not called again once it succeeded.
    fn deprovision(
        &self,
        request: DeprovisionRequest,
    ) -> impl Future<Output = Result<Deprovisioned, AddonError>> + Send;

    /// Finishes a provision that answered [`Provisioned::later`]: returns the config to set.
    /// Runs in the background, retried with backoff until it succeeds or twelve hours pass.
    fn complete_provision(
        &self,
        job: ProvisionJob,
    ) -> impl Future<Output = Result<Config, AddonError>> + Send {
        let _ = job;
        async {
            Err(AddonError::internal(
                "`#[provision]` answered `Provisioned::later` but the add-on has no `#[complete_provision]` method",
            ))
        }
    }

    /// Finishes a plan change that answered [`PlanChanged::later`]: returns config to set (or an
    /// empty one). Without it, the plan change is simply confirmed.
    fn complete_plan_change(
        &self,
        job: PlanChangeJob,
    ) -> impl Future<Output = Result<Config, AddonError>> + Send {
        let _ = job;
        async { Ok(Config::new()) }
    }

    /// Finishes a deprovision that answered [`Deprovisioned::later`]; the runtime then tells
    /// Heroku it is done. Without it, that happens at once.
    fn complete_deprovision(
        &self,
        job: DeprovisionJob,
    ) -> impl Future<Output = Result<(), AddonError>> + Send {
        let _ = job;
        async { Ok(()) }
    }

    /// Runs after a user's SSO token was verified and before the session cookie is set; says where
    /// the browser goes. Without it, users land on `/`.
    fn sso(&self, login: SsoLogin) -> impl Future<Output = Result<SsoRedirect, AddonError>> + Send {
        let _ = login;
        async { Ok(SsoRedirect::to("/")) }
    }
}

/// The manifest of an add-on, as constants: what `#[heroku_addon(...)]` declares.
///
/// Secrets are not part of it: they come from the environment or the generated manifest file.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct AddonSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub config_vars: &'static [&'static str],
    pub config_vars_prefix: Option<&'static str>,
    pub regions: &'static [&'static str],
    pub requires: &'static [Requirement],
    /// The public origin, such as `https://logs.acme.example`.
    pub production: &'static str,
    /// Where Heroku sends provision, plan change and deprovision calls.
    pub base_path: &'static str,
    /// Where Heroku's dashboard posts the SSO form.
    pub sso_path: &'static str,
    /// The port the service listens on when `PORT` is not set; the manifest's test URLs use it.
    pub port: u16,
    /// Where the build wrote `addon-manifest.json`; secrets fall back to it in development.
    pub manifest_path: Option<&'static str>,
}

impl AddonSpec {
    /// A spec with the usual defaults: region `us`, paths `/heroku/resources` and `/sso/login`,
    /// port 5000. Chain the other setters in a `const`.
    pub const fn new(id: &'static str, name: &'static str, production: &'static str) -> Self {
        AddonSpec {
            id,
            name,
            config_vars: &[],
            config_vars_prefix: None,
            regions: &["us"],
            requires: &[],
            production,
            base_path: addon_manifest::DEFAULT_BASE_PATH,
            sso_path: addon_manifest::DEFAULT_SSO_PATH,
            port: addon_manifest::DEFAULT_PORT,
            manifest_path: None,
        }
    }

    pub const fn config_vars(mut self, vars: &'static [&'static str]) -> Self {
        self.config_vars = vars;
        self
    }

    pub const fn config_vars_prefix(mut self, prefix: &'static str) -> Self {
        self.config_vars_prefix = Some(prefix);
        self
    }

    pub const fn regions(mut self, regions: &'static [&'static str]) -> Self {
        self.regions = regions;
        self
    }

    pub const fn requires(mut self, requires: &'static [Requirement]) -> Self {
        self.requires = requires;
        self
    }

    pub const fn paths(mut self, base_path: &'static str, sso_path: &'static str) -> Self {
        self.base_path = base_path;
        self.sso_path = sso_path;
        self
    }

    pub const fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub const fn manifest_path(mut self, path: &'static str) -> Self {
        self.manifest_path = Some(path);
        self
    }

    /// Whether the manifest requires a Heroku feature, such as `syslog_drain`.
    pub fn requires_feature(&self, feature: Requirement) -> bool {
        self.requires.contains(&feature)
    }

    /// The declaration this spec makes, for the manifest rules shared with the macro.
    pub fn declaration(&self) -> addon_manifest::Declaration<'static> {
        addon_manifest::Declaration {
            id: self.id,
            name: self.name,
            config_vars: self.config_vars,
            config_vars_prefix: self.config_vars_prefix,
            regions: self.regions,
            requires: self.requires,
            production: self.production,
            base_path: self.base_path,
            sso_path: self.sso_path,
            port: self.port,
        }
    }
}
