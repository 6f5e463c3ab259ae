use crate::digitalocean::DigitalOceanListing;
use crate::osb::OsbService;
use crate::rules::{self, Field, Problem};
use crate::{Api, Endpoints, Manifest, Requirement};

/// What an add-on declares about itself in code: the manifest without its secrets.
///
/// This is the one list of what can be declared, and [`Declaration::new`] holds the one copy of
/// each default. `#[heroku_addon(...)]` builds one (its keys are these fields, and the generated
/// constant calls these setters); a hand-written `Addon` impl builds one as `AddonSpec`, which is
/// this type; both turn it into a [`Manifest`] and judge it here, so they cannot disagree.
///
/// Build it in a `const` with the setters:
///
/// ```
/// # use addon_manifest::Declaration;
/// const SPEC: Declaration<'static> =
///     Declaration::new("acme-logs", "Acme Logs", "https://logs.acme.example")
///         .config_vars(&["ACME_LOGS_URL"])
///         .plans(&["hobby", "pro"])
///         .regions(&["us", "eu"]);
/// assert!(SPEC.problems().is_empty());
/// assert_eq!(SPEC.port, 5000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Declaration<'a> {
    /// The add-on's slug, such as `acme-logs`; also the Basic auth user.
    pub id: &'a str,
    /// The name users see in the marketplace.
    pub name: &'a str,
    /// The config vars provisioning may set.
    pub config_vars: &'a [&'a str],
    /// The plans' slugs, such as `hobby`: the runtime refuses any other before the vendor is
    /// called. Not written to the manifest (Heroku's manifest has no plans).
    pub plans: &'a [&'a str],
    /// The prefix of every config var; `None` means the id in upper case.
    pub config_vars_prefix: Option<&'a str>,
    /// Heroku region names, or `*`.
    pub regions: &'a [&'a str],
    /// The Heroku features the add-on relies on.
    pub requires: &'a [Requirement],
    /// The public origin, such as `https://logs.acme.example`.
    pub production: &'a str,
    /// Where Heroku sends provision, plan change and deprovision calls.
    pub base_path: &'a str,
    /// Where Heroku's dashboard posts the SSO form.
    pub sso_path: &'a str,
    /// The port the service listens on when `PORT` is not set; the manifest's test URLs use it.
    pub port: u16,
    /// Where the build wrote `addon-manifest.json`; secrets fall back to it in development.
    pub manifest_path: Option<&'a str>,
    /// The DigitalOcean Add-Ons marketplace, when the add-on is listed there too.
    pub digitalocean: Option<DigitalOceanListing<'a>>,
    /// The Open Service Broker service this add-on also offers; `None`: Heroku only.
    pub osb: Option<OsbService<'a>>,
    /// The config var that is the app's API key (what `ApiKey` looks resources up by), one of
    /// `config_vars`. The registry then indexes this var alone, as a keyed digest in the
    /// resource's own row, which makes each provision's write smaller. `None`: every config var
    /// can open its resource, each through a row of an index table.
    pub api_key: Option<&'a str>,
}

/// The default route for provisioning calls, as Heroku's documentation names it.
pub const DEFAULT_BASE_PATH: &str = "/heroku/resources";
/// The default route for SSO form posts.
pub const DEFAULT_SSO_PATH: &str = "/sso/login";
/// The default port, as Heroku's tools have used for local testing.
pub const DEFAULT_PORT: u16 = 5000;
/// The default regions: Heroku's first.
pub const DEFAULT_REGIONS: &[&str] = &["us"];

impl<'a> Declaration<'a> {
    /// A declaration with the usual defaults: no config vars, no plans (declare at least one), region `us`, paths
    /// `/heroku/resources` and `/sso/login`, port 5000. Chain the other setters in a `const`.
    pub const fn new(id: &'a str, name: &'a str, production: &'a str) -> Self {
        Declaration {
            id,
            name,
            config_vars: &[],
            plans: &[],
            config_vars_prefix: None,
            regions: DEFAULT_REGIONS,
            requires: &[],
            production,
            base_path: DEFAULT_BASE_PATH,
            sso_path: DEFAULT_SSO_PATH,
            port: DEFAULT_PORT,
            manifest_path: None,
            digitalocean: None,
            osb: None,
            api_key: None,
        }
    }

    pub const fn config_vars(mut self, vars: &'a [&'a str]) -> Self {
        self.config_vars = vars;
        self
    }

    /// The plans' slugs; at least one. A plan Heroku sends that is not here is refused.
    pub const fn plans(mut self, plans: &'a [&'a str]) -> Self {
        self.plans = plans;
        self
    }

    /// Whether `plan` is one of the declared plans.
    pub fn has_plan(&self, plan: &str) -> bool {
        self.plans.contains(&plan)
    }

    pub const fn config_vars_prefix(mut self, prefix: &'a str) -> Self {
        self.config_vars_prefix = Some(prefix);
        self
    }

    pub const fn regions(mut self, regions: &'a [&'a str]) -> Self {
        self.regions = regions;
        self
    }

    pub const fn requires(mut self, requires: &'a [Requirement]) -> Self {
        self.requires = requires;
        self
    }

    pub const fn base_path(mut self, path: &'a str) -> Self {
        self.base_path = path;
        self
    }

    pub const fn sso_path(mut self, path: &'a str) -> Self {
        self.sso_path = path;
        self
    }

    /// Both routes at once.
    pub const fn paths(self, base_path: &'a str, sso_path: &'a str) -> Self {
        self.base_path(base_path).sso_path(sso_path)
    }

    pub const fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub const fn manifest_path(mut self, path: &'a str) -> Self {
        self.manifest_path = Some(path);
        self
    }

    /// Serves DigitalOcean's calls too, with these routes and slug.
    pub const fn digitalocean(mut self, listing: DigitalOceanListing<'a>) -> Self {
        self.digitalocean = Some(listing);
        self
    }

    /// Serves the Open Service Broker API too, offering `service` (see [`OsbService`]).
    pub const fn osb(mut self, service: OsbService<'a>) -> Self {
        self.osb = Some(service);
        self
    }

    /// Declares which config var is the app's API key (see [`Declaration::api_key`]).
    pub const fn api_key(mut self, var: &'a str) -> Self {
        self.api_key = Some(var);
        self
    }

    /// Whether the add-on requires a Heroku feature, such as `syslog_drain`.
    pub fn requires_feature(&self, feature: Requirement) -> bool {
        self.requires.contains(&feature)
    }

    /// The declaration itself: `AddonSpec` used to be a copy of it.
    #[deprecated(note = "`AddonSpec` is now `Declaration<'static>`: call its methods directly")]
    pub fn declaration(&self) -> Declaration<'a> {
        *self
    }

    /// The manifest with these secrets.
    pub fn manifest(&self, password: &str, sso_salt: &str) -> Manifest {
        let production = self.production.trim_end_matches('/');
        let test = format!("http://127.0.0.1:{}", self.port);
        let endpoints = |origin: &str| Endpoints {
            base_url: format!("{origin}{}", self.base_path),
            sso_url: format!("{origin}{}", self.sso_path),
        };
        Manifest {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            api: Api {
                config_vars: self.config_vars.iter().map(|v| (*v).to_owned()).collect(),
                config_vars_prefix: self.config_vars_prefix.map(str::to_owned),
                password: password.to_owned(),
                sso_salt: sso_salt.to_owned(),
                regions: self.regions.iter().map(|r| (*r).to_owned()).collect(),
                requires: self.requires.iter().map(|r| r.as_str().to_owned()).collect(),
                production: endpoints(production),
                test: Some(endpoints(&test)),
                version: "3".to_owned(),
            },
            base: None,
        }
    }

    /// Every rule the declaration breaks, secrets aside (they are not part of it).
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems: Vec<_> = self
            .manifest("-", "-")
            .problems()
            .into_iter()
            .filter(|p| !matches!(p.field, Field::Password | Field::SsoSalt))
            .collect();
        if let Err(message) = rules::check_origin(self.production) {
            // The URLs are built from the origin: its one problem says it better than theirs.
            problems.retain(|p| !matches!(p.field, Field::ProductionBaseUrl | Field::ProductionSsoUrl));
            problems.push(Problem { field: Field::Production, message });
        }
        if let Err(message) = rules::check_plans_present(self.plans.len()) {
            problems.push(Problem { field: Field::Plans, message });
        }
        for (i, plan) in self.plans.iter().enumerate() {
            if let Err(message) = rules::check_plan_slug(plan) {
                problems.push(Problem { field: Field::Plan(i), message });
            }
        }
        for (i, plan) in self.plans.iter().enumerate() {
            if self.plans[..i].contains(plan) {
                let message = format!("the plan `{plan}` is listed twice; keep one");
                problems.push(Problem { field: Field::Plan(i), message });
            }
        }
        for (field, path) in [(Field::BasePath, self.base_path), (Field::SsoPath, self.sso_path)] {
            if let Err(message) = rules::check_path(path) {
                problems.push(Problem { field, message });
            }
        }
        if let Some(listing) = &self.digitalocean {
            problems.extend(listing.problems([self.base_path, self.sso_path]));
        }
        if let Some(osb) = &self.osb {
            problems.extend(osb.problems(self.plans));
        }
        if let Some(var) = self.api_key.filter(|var| !self.config_vars.contains(var)) {
            let message = format!(
                "the API key `{var}` is not one of the config vars ({}): name the var the app sends",
                self.config_vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
            );
            problems.push(Problem { field: Field::ApiKey, message });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_those_of_new() {
        let declaration = Declaration::new("acme", "Acme", "https://acme.example");
        assert_eq!(declaration.regions, ["us"]);
        assert_eq!((declaration.base_path, declaration.sso_path), (DEFAULT_BASE_PATH, DEFAULT_SSO_PATH));
        assert_eq!(declaration.port, DEFAULT_PORT);
        let manifest = declaration.config_vars(&["ACME_URL"]).port(5001).manifest("p", "s");
        assert_eq!(manifest.api.production.base_url, "https://acme.example/heroku/resources");
        assert_eq!(manifest.api.test.unwrap().sso_url, "http://127.0.0.1:5001/sso/login");
    }

    #[test]
    fn problems_name_typed_fields() {
        let declaration = Declaration::new("Acme", "", "https://acme.example/api")
            .config_vars(&["ACME_URL", "url"])
            .plans(&["hobby"])
            .regions(&["us", "EU"])
            .sso_path("sso");
        let fields: Vec<Field> = declaration.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                Field::Id,
                Field::Name,
                Field::ConfigVar(1),
                Field::Region(1),
                Field::Production,
                Field::SsoPath
            ]
        );
        assert_eq!(Field::ConfigVar(1).to_string(), "api.config_vars[1]");
    }

    #[test]
    fn plans_are_declared_checked_and_kept_out_of_the_manifest() {
        let base = Declaration::new("acme", "Acme", "https://acme.example").config_vars(&["ACME_URL"]);
        let fields = |d: Declaration<'_>| d.problems().into_iter().map(|p| p.field).collect::<Vec<_>>();
        assert_eq!(fields(base), [Field::Plans], "no plans at all");
        assert_eq!(
            fields(base.plans(&["hobby", "Pro", "hobby", "a_b"])),
            [Field::Plan(1), Field::Plan(3), Field::Plan(2)]
        );
        let good = base.plans(&["hobby", "pro-2"]);
        assert!(good.problems().is_empty(), "{:?}", good.problems());
        assert!(good.has_plan("pro-2") && !good.has_plan("test"));
        let json = good.manifest("p", "s").to_json();
        assert!(!json.contains("plans") && !json.contains("hobby"), "{json}");
        assert_eq!(Field::Plan(1).to_string(), "plans[1]");
    }

    #[test]
    fn the_api_key_is_one_of_the_config_vars() {
        let base = Declaration::new("acme", "Acme", "https://acme.example")
            .config_vars(&["ACME_URL", "ACME_KEY"])
            .plans(&["hobby"]);
        assert!(base.api_key("ACME_KEY").problems().is_empty());
        let problems = base.api_key("ACME_TOKEN").problems();
        assert_eq!(problems.iter().map(|p| p.field).collect::<Vec<_>>(), [Field::ApiKey]);
        assert!(problems[0].message.contains("`ACME_TOKEN`") && problems[0].message.contains("`ACME_KEY`"));
        assert_eq!(Field::ApiKey.to_string(), "api_key");
    }
}
