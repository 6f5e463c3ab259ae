//! What an add-on declares about its DigitalOcean listing: where DigitalOcean's calls arrive and
//! the slug it authenticates with. Secrets are not declared: they come from the environment
//! (`ADDON_DO_PASSWORD`, `ADDON_DO_SSO_SALT`, `ADDON_DO_CLIENT_SECRET`).

use crate::rules::{self, Field, Problem};

/// The default route prefix of DigitalOcean's calls, as DigitalOcean's sample add-on mounts
/// them: `POST /digitalocean/resources`, `POST /digitalocean/sso`, `POST /digitalocean/notifications`.
pub const DEFAULT_DIGITALOCEAN_BASE_PATH: &str = "/digitalocean";

/// The DigitalOcean Add-Ons marketplace, turned on: `digitalocean(...)` in `#[heroku_addon]`, or
/// [`Declaration::digitalocean`](crate::Declaration::digitalocean) by hand.
///
/// ```
/// # use addon_manifest::{Declaration, DigitalOceanListing};
/// const SPEC: Declaration<'static> =
///     Declaration::new("acme-logs", "Acme Logs", "https://logs.acme.example")
///         .config_vars(&["ACME_LOGS_URL"])
///         .plans(&["hobby"])
///         .digitalocean(DigitalOceanListing::new().base_path("/do"));
/// assert_eq!(SPEC.digitalocean.unwrap().slug_or(SPEC.id), "acme-logs");
/// assert!(SPEC.problems().is_empty());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DigitalOceanListing<'a> {
    /// The prefix of DigitalOcean's routes: `{base_path}/resources`, `{base_path}/sso`,
    /// `{base_path}/notifications`.
    pub base_path: &'a str,
    /// The add-on's slug on DigitalOcean, the Basic auth user of its calls; `None` means the
    /// declaration's `id`.
    pub slug: Option<&'a str>,
}

impl<'a> DigitalOceanListing<'a> {
    /// The defaults: base path `/digitalocean`, the slug the add-on's `id`.
    pub const fn new() -> Self {
        DigitalOceanListing { base_path: DEFAULT_DIGITALOCEAN_BASE_PATH, slug: None }
    }

    pub const fn base_path(mut self, path: &'a str) -> Self {
        self.base_path = path;
        self
    }

    pub const fn slug(mut self, slug: &'a str) -> Self {
        self.slug = Some(slug);
        self
    }

    /// The slug DigitalOcean authenticates with: the declared one, else `id`.
    pub fn slug_or(&self, id: &'a str) -> &'a str {
        self.slug.unwrap_or(id)
    }

    /// The rules the listing breaks: a plain path, a slug like an add-on id, and no route shared
    /// with Heroku's (`heroku_paths` are the declaration's `base_path` and `sso_path`).
    pub fn problems(&self, heroku_paths: [&str; 2]) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(message) = rules::check_path(self.base_path) {
            problems.push(Problem { field: Field::DigitalOceanBasePath, message });
        } else if heroku_paths
            .iter()
            .any(|p| *p == self.base_path || p.starts_with(&format!("{}/", self.base_path)))
        {
            problems.push(Problem {
                field: Field::DigitalOceanBasePath,
                message: format!(
                    "DigitalOcean's `base_path` `{}` overlaps Heroku's routes ({} and {}); choose another, such as `/digitalocean`",
                    self.base_path, heroku_paths[0], heroku_paths[1]
                ),
            });
        }
        if let Some(slug) = self.slug {
            if let Err(message) = check_slug(slug) {
                problems.push(Problem { field: Field::DigitalOceanSlug, message });
            }
        }
        problems
    }
}

/// DigitalOcean's sample slugs hold `_` (`sample_app`), so the rule is wider than Heroku's id:
/// letters, digits, `-` and `_`, and never `:`, which would end Basic auth's user.
fn check_slug(slug: &str) -> Result<(), String> {
    let plain = slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if slug.is_empty() || slug.len() > 64 || !plain {
        return Err(format!(
            "the DigitalOcean slug `{slug}` must be 1 to 64 letters, digits, `-` or `_`, as DigitalOcean's \
             vendor portal shows it (such as `acme-logs`)"
        ));
    }
    Ok(())
}

impl Default for DigitalOceanListing<'_> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_problems() {
        let listing = DigitalOceanListing::new();
        assert_eq!(listing.base_path, "/digitalocean");
        assert_eq!(listing.slug_or("acme"), "acme");
        assert!(listing.problems(["/heroku/resources", "/sso/login"]).is_empty());
        let fields = |l: DigitalOceanListing<'_>| {
            l.problems(["/heroku/resources", "/sso/login"]).into_iter().map(|p| p.field).collect::<Vec<_>>()
        };
        assert_eq!(fields(listing.base_path("do/")), [Field::DigitalOceanBasePath]);
        assert_eq!(fields(listing.base_path("/heroku")), [Field::DigitalOceanBasePath]);
        assert_eq!(fields(listing.slug("Not A Slug")), [Field::DigitalOceanSlug]);
    }
}
