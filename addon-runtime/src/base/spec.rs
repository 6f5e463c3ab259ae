//! The add-on's declaration as constants, as `#[heroku_addon(...)]` wrote it.

use addon_manifest::Requirement;

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
