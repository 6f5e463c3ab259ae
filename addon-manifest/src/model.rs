use serde::{Deserialize, Serialize};

use crate::rules::{self, Field, Problem};

/// An add-on manifest, as `heroku addons:admin:manifest` reads and writes it.
///
/// Reading is lenient (unknown fields are ignored, optional fields may be missing) so that
/// manifests pulled from Heroku or written by hand can be checked; writing is strict.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub api: Api,
    /// A revision token that `manifest:pull` returns; kept as it is.
    #[serde(rename = "$base", default, skip_serializing_if = "Option::is_none")]
    pub base: Option<serde_json::Value>,
}

/// The `api` section of a manifest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    pub config_vars: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_vars_prefix: Option<String>,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub sso_salt: String,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    pub production: Endpoints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Endpoints>,
    #[serde(default)]
    pub version: String,
}

/// Where Heroku sends provisioning calls (`base_url`) and SSO form posts (`sso_url`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    pub base_url: String,
    pub sso_url: String,
}

impl Manifest {
    /// Parses a manifest from JSON text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The manifest as it is written to disk: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        text.push('\n');
        text
    }

    /// The prefix every config var must carry: the declared one, or the id in upper case.
    pub fn prefix(&self) -> String {
        match &self.api.config_vars_prefix {
            Some(prefix) => prefix.clone(),
            None => rules::default_prefix(&self.id),
        }
    }

    /// Every rule this manifest breaks, each with the field it concerns.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check = |field: Field, result: Result<(), String>| {
            if let Err(message) = result {
                problems.push(Problem { field, message });
            }
        };
        check(Field::Id, rules::check_slug(&self.id));
        check(Field::Name, rules::check_name(&self.name));
        if let Some(prefix) = &self.api.config_vars_prefix {
            check(Field::ConfigVarsPrefix, rules::check_prefix(prefix));
        }
        // A prefix derived from an invalid id would only repeat the id's problem on every var.
        let prefix = match (&self.api.config_vars_prefix, rules::check_slug(&self.id)) {
            (Some(prefix), _) => rules::check_prefix(prefix).is_ok().then(|| prefix.clone()),
            (None, Ok(())) => Some(self.prefix()),
            (None, Err(_)) => None,
        };
        check(Field::ConfigVars, rules::check_config_vars_present(self.api.config_vars.len()));
        for (i, var) in self.api.config_vars.iter().enumerate() {
            check(Field::ConfigVar(i), rules::check_config_var(var, prefix.as_deref()));
        }
        check(Field::ConfigVars, rules::check_unique(&self.api.config_vars));
        check(Field::Password, rules::check_secret("password", &self.api.password));
        check(Field::SsoSalt, rules::check_secret("sso_salt", &self.api.sso_salt));
        check(Field::Regions, rules::check_regions_present(self.api.regions.len()));
        for (i, region) in self.api.regions.iter().enumerate() {
            check(Field::Region(i), rules::check_region(region));
        }
        check(Field::Regions, rules::check_unique(&self.api.regions));
        for (i, flag) in self.api.requires.iter().enumerate() {
            check(Field::Requirement(i), flag.parse::<rules::Requirement>().map(drop));
        }
        check(Field::Requires, rules::check_unique(&self.api.requires));
        check(Field::ProductionBaseUrl, rules::check_production_url(&self.api.production.base_url));
        check(Field::ProductionSsoUrl, rules::check_production_url(&self.api.production.sso_url));
        check(Field::Version, rules::check_version(&self.api.version));
        problems
    }
}

/// Secrets never reach logs or panic messages through `Debug`.
impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("config_vars", &self.config_vars)
            .field("config_vars_prefix", &self.config_vars_prefix)
            .field("password", &"<redacted>")
            .field("sso_salt", &"<redacted>")
            .field("regions", &self.regions)
            .field("requires", &self.requires)
            .field("production", &self.production)
            .field("test", &self.test)
            .field("version", &self.version)
            .finish()
    }
}
