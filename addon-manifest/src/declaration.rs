use crate::{Api, Endpoints, Manifest, Requirement};

/// What an add-on declares about itself in code: the manifest without its secrets.
///
/// The macro builds one from the attribute's arguments and the runtime from the `Addon`
/// trait's constants; both turn it into a [`Manifest`] here, so they cannot disagree.
#[derive(Clone, Debug)]
pub struct Declaration<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub config_vars: &'a [&'a str],
    pub config_vars_prefix: Option<&'a str>,
    pub regions: &'a [&'a str],
    pub requires: &'a [Requirement],
    /// The public origin, such as `https://logs.acme.example`.
    pub production: &'a str,
    pub base_path: &'a str,
    pub sso_path: &'a str,
    /// The port the service listens on by default; the manifest's test URLs point there.
    pub port: u16,
}

/// The default route for provisioning calls, as Heroku's documentation names it.
pub const DEFAULT_BASE_PATH: &str = "/heroku/resources";
/// The default route for SSO form posts.
pub const DEFAULT_SSO_PATH: &str = "/sso/login";
/// The default port, as Heroku's tools have used for local testing.
pub const DEFAULT_PORT: u16 = 5000;

impl Declaration<'_> {
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
    pub fn problems(&self) -> Vec<crate::Problem> {
        let mut problems: Vec<_> = self
            .manifest("-", "-")
            .problems()
            .into_iter()
            .filter(|p| p.field != "api.password" && p.field != "api.sso_salt")
            .collect();
        if let Err(message) = crate::rules::check_origin(self.production) {
            problems.retain(|p| !p.field.starts_with("api.production"));
            problems.push(crate::Problem { field: "production".to_owned(), message });
        }
        for (field, path) in [("base_path", self.base_path), ("sso_path", self.sso_path)] {
            if let Err(message) = crate::rules::check_path(path) {
                problems.push(crate::Problem { field: field.to_owned(), message });
            }
        }
        problems
    }
}
