use std::fmt;

/// A rule a manifest or a declaration breaks: the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Which field a [`Problem`] concerns. Shown as the manifest's path (`api.config_vars[1]`); the
/// `#[heroku_addon]` macro maps it to the literal it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `id`
    Id,
    /// `name`
    Name,
    /// `api.config_vars` as a whole (none, or one listed twice).
    ConfigVars,
    /// One of `api.config_vars`, by index.
    ConfigVar(usize),
    /// `api.config_vars_prefix`
    ConfigVarsPrefix,
    /// `api.password`
    Password,
    /// `api.sso_salt`
    SsoSalt,
    /// `api.regions` as a whole.
    Regions,
    /// One of `api.regions`, by index.
    Region(usize),
    /// `api.requires` as a whole.
    Requires,
    /// One of `api.requires`, by index.
    Requirement(usize),
    /// `api.production.base_url`
    ProductionBaseUrl,
    /// `api.production.sso_url`
    ProductionSsoUrl,
    /// `api.version`
    Version,
    /// The declaration's `production` origin (a manifest has only the URLs made from it).
    Production,
    /// The declaration's `base_path`.
    BasePath,
    /// The declaration's `sso_path`.
    SsoPath,
    /// The declaration's `plans` as a whole (none, or one listed twice). Not in the manifest:
    /// Heroku keeps plans in its own dashboard.
    Plans,
    /// One of the declaration's `plans`, by index.
    Plan(usize),
    /// The `base_path` of the declaration's `digitalocean(...)`.
    DigitalOceanBasePath,
    /// The `slug` of the declaration's `digitalocean(...)`.
    DigitalOceanSlug,
    /// The declaration's `osb(service_id = ...)`.
    OsbServiceId,
    /// One of the declaration's `osb(plan_ids = [...])`, by index.
    OsbPlanId(usize),
    /// The declaration's `api_key`.
    ApiKey,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::ConfigVars => "api.config_vars",
            Field::ConfigVar(i) => return write!(f, "api.config_vars[{i}]"),
            Field::ConfigVarsPrefix => "api.config_vars_prefix",
            Field::Password => "api.password",
            Field::SsoSalt => "api.sso_salt",
            Field::Regions => "api.regions",
            Field::Region(i) => return write!(f, "api.regions[{i}]"),
            Field::Requires => "api.requires",
            Field::Requirement(i) => return write!(f, "api.requires[{i}]"),
            Field::ProductionBaseUrl => "api.production.base_url",
            Field::ProductionSsoUrl => "api.production.sso_url",
            Field::Version => "api.version",
            Field::Production => "production",
            Field::BasePath => "base_path",
            Field::SsoPath => "sso_path",
            Field::Plans => "plans",
            Field::Plan(i) => return write!(f, "plans[{i}]"),
            Field::DigitalOceanBasePath => "digitalocean.base_path",
            Field::DigitalOceanSlug => "digitalocean.slug",
            Field::OsbServiceId => "osb.service_id",
            Field::OsbPlanId(i) => return write!(f, "osb.plan_ids[{i}]"),
            Field::ApiKey => "api_key",
        };
        f.write_str(path)
    }
}
