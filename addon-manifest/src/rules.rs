//! One function per rule a manifest must obey. Each returns a message written for the vendor:
//! what is wrong and what to write instead.
//!
//! Sources: Heroku's add-on manifest page, its CLI's manifest generator and kensa's checks.
//! Beside them, the rules on what an add-on answers Heroku and what Heroku sends it (config
//! values, the log drain URL, resource ids, plan slugs): the runtime applies them to the vendor's
//! code and the conformance checker to any add-on, through these same functions.

use std::fmt;
use std::str::FromStr;

mod answers;

pub use crate::problem::{Field, Problem};
pub use answers::{
    check_config, check_config_value, check_declared, check_log_drain_url, check_plan, check_resource_id,
    is_absolute_url,
};

/// A placeholder that generated manifests used to carry and that must never reach Heroku.
const PLACEHOLDER: &str = "CHANGEME";

/// The id (slug) is what users type in `heroku addons:create <id>`; Heroku documents it as
/// lower case without spaces or punctuation, and accepts hyphens in practice.
pub fn check_slug(id: &str) -> Result<(), String> {
    let Some(first) = id.chars().next() else {
        return Err("the add-on id is empty; use a slug such as `acme-logs`".into());
    };
    if !first.is_ascii_lowercase() {
        return Err(format!(
            "the add-on id `{id}` must start with a lower-case letter (a-z); use a slug such as `acme-logs`"
        ));
    }
    if let Some(bad) = id.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!(
            "the add-on id `{id}` contains `{bad}`; an id may hold only lower-case letters, digits and `-`, \
             such as `acme-logs`"
        ));
    }
    if id.ends_with('-') || id.contains("--") {
        return Err(format!("the add-on id `{id}` must not end with `-` or contain `--`"));
    }
    Ok(())
}

/// A declared plan's slug, as in `heroku addons:create acme-logs:hobby`: lower-case letters,
/// digits and `-`, starting with a letter, at most 64 characters.
pub fn check_plan_slug(plan: &str) -> Result<(), String> {
    let Some(first) = plan.chars().next() else {
        return Err("a plan slug is empty; use a slug such as `hobby`".into());
    };
    if !first.is_ascii_lowercase() {
        return Err(format!("the plan `{plan}` must start with a lower-case letter (a-z), such as `hobby`"));
    }
    if let Some(bad) = plan.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!(
            "the plan `{plan}` contains `{bad}`; a plan slug may hold only lower-case letters, digits and `-`, \
             such as `hobby` or `pro-2`"
        ));
    }
    if plan.ends_with('-') || plan.contains("--") {
        return Err(format!("the plan `{plan}` must not end with `-` or contain `--`"));
    }
    if plan.len() > 64 {
        return Err(format!("the plan `{plan}` is longer than 64 characters"));
    }
    Ok(())
}

/// An add-on has at least one plan: Heroku provisions every resource on one.
pub fn check_plans_present(count: usize) -> Result<(), String> {
    if count == 0 {
        return Err(
            "no plans are declared; declare the plans' slugs, such as `plans = [\"hobby\", \"pro\"]`".into(),
        );
    }
    Ok(())
}

/// The display name may be anything but empty.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the add-on name is empty; give the name users see in the marketplace".into());
    }
    Ok(())
}

/// The prefix Heroku uses when none is declared: the id in upper case, `-` turned into `_`.
pub fn default_prefix(id: &str) -> String {
    id.to_ascii_uppercase().replace('-', "_")
}

/// A declared `config_vars_prefix` must itself be a valid config var name start.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let valid = prefix.starts_with(|c: char| c.is_ascii_uppercase())
        && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !prefix.ends_with('_');
    if !valid {
        return Err(format!(
            "the config var prefix `{prefix}` must be upper-case letters, digits and `_`, start with a letter \
             and not end with `_` (for example `ACME_LOGS`)"
        ));
    }
    Ok(())
}

/// At least one config var: an add-on that sets none gives the app nothing to connect with.
pub fn check_config_vars_present(count: usize) -> Result<(), String> {
    if count == 0 {
        return Err("no config vars are declared; declare at least one, such as `<PREFIX>_URL`".into());
    }
    Ok(())
}

/// Config var names: `^[A-Z][0-9A-Z_]+$`, beginning with `<prefix>_` and something after it.
/// Without a valid prefix to compare with, only the shape is checked.
pub fn check_config_var(var: &str, prefix: Option<&str>) -> Result<(), String> {
    let shaped = var.len() >= 2
        && var.starts_with(|c: char| c.is_ascii_uppercase())
        && var.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !shaped {
        let example = prefix.map_or_else(|| "ACME_URL".to_owned(), |p| format!("{p}_URL"));
        return Err(format!(
            "the config var `{var}` must be upper case: letters, digits and `_`, starting with a letter \
             (for example `{example}`)"
        ));
    }
    let Some(prefix) = prefix else {
        return Ok(());
    };
    match var.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('_')) {
        Some(rest) if !rest.is_empty() => Ok(()),
        _ => Err(format!(
            "the config var `{var}` must start with the prefix `{prefix}_` (for example `{prefix}_URL`)"
        )),
    }
}

/// Secrets must be set to something that is not the generator's old placeholder.
pub fn check_secret(which: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("`{which}` is empty; generate a random secret of 32 characters"));
    }
    if value == PLACEHOLDER {
        return Err(format!("`{which}` is still the placeholder `{PLACEHOLDER}`; generate a random secret"));
    }
    Ok(())
}

/// An add-on must be offered in at least one region.
pub fn check_regions_present(count: usize) -> Result<(), String> {
    if count == 0 {
        return Err("no regions are declared; declare at least one, such as `us` or `eu`".into());
    }
    Ok(())
}

/// Region names are Heroku's lower-case region slugs (`us`, `eu`, `frankfurt`, ...) or `*`.
pub fn check_region(region: &str) -> Result<(), String> {
    let valid = region == "*"
        || (!region.is_empty()
            && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    if !valid {
        return Err(format!(
            "the region `{region}` is not a Heroku region name; use lower-case names such as `us`, `eu`, \
             `frankfurt`, or `*` for all"
        ));
    }
    Ok(())
}

/// No value may be listed twice.
pub fn check_unique(values: &[String]) -> Result<(), String> {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            return Err(format!("`{value}` is listed twice"));
        }
    }
    Ok(())
}

/// Heroku only calls https URLs with a valid certificate, on a public host.
pub fn check_production_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(format!(
            "the production URL `{url}` must start with `https://`: Heroku only calls https"
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    if host_name.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(format!("the production URL `{url}` has no host name"));
    }
    if is_loopback_host(host_name) {
        return Err(format!(
            "the production URL `{url}` points at this machine; Heroku needs your public host name"
        ));
    }
    if url.contains(['?', '#']) {
        return Err(format!("the production URL `{url}` must not carry a query or fragment"));
    }
    Ok(())
}

/// Whether a host name is this machine (`localhost`, `127.x.x.x`, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "0.0.0.0"
}

/// The production origin: `https://host[:port]`, without a path (the routes add their own).
pub fn check_origin(origin: &str) -> Result<(), String> {
    check_production_url(origin)?;
    let after_scheme = &origin["https://".len()..];
    match after_scheme.split_once('/') {
        Some((_, path)) if !path.is_empty() => Err(format!(
            "the production URL `{origin}` must be an origin such as `https://logs.acme.example`, without a path; \
             set `base_path` and `sso_path` for the routes"
        )),
        _ => Ok(()),
    }
}

/// A route path such as `/heroku/resources`: absolute, plain, without a trailing `/`.
pub fn check_path(path: &str) -> Result<(), String> {
    let plain = path.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c));
    if !path.starts_with('/') || path.len() < 2 || path.ends_with('/') || path.contains("//") || !plain {
        return Err(format!(
            "the path `{path}` must start with `/`, not end with `/`, and hold only letters, digits and `-_.~/` \
             (for example `/heroku/resources`)"
        ));
    }
    Ok(())
}

/// This framework speaks version 3 of the Add-on Partner API.
pub fn check_version(version: &str) -> Result<(), String> {
    if version != "3" {
        return Err(format!("`api.version` is `{version}`; it must be \"3\" for the v3 Add-on Partner API"));
    }
    Ok(())
}

/// The features an add-on may require of Heroku (`api.requires`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Heroku sends a `log_drain_token`; the add-on returns a `log_drain_url` to receive app logs.
    SyslogDrain,
    /// Heroku sends a `log_input_url` the add-on may write to the app's log with.
    LogInput,
    /// The resource may be attached to several apps.
    Attachable,
    /// An app may install the add-on more than once.
    ManyPerApp,
}

impl Requirement {
    /// Every flag, in the order the documentation lists them.
    pub const ALL: [Requirement; 4] = [Self::SyslogDrain, Self::LogInput, Self::Attachable, Self::ManyPerApp];

    /// The variant's name in Rust, for code that generates a `Requirement` constant.
    pub fn variant_name(self) -> &'static str {
        match self {
            Self::SyslogDrain => "SyslogDrain",
            Self::LogInput => "LogInput",
            Self::Attachable => "Attachable",
            Self::ManyPerApp => "ManyPerApp",
        }
    }

    /// The flag as the manifest spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyslogDrain => "syslog_drain",
            Self::LogInput => "log_input",
            Self::Attachable => "attachable",
            Self::ManyPerApp => "many_per_app",
        }
    }
}

impl FromStr for Requirement {
    type Err = String;

    fn from_str(flag: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|r| r.as_str() == flag).ok_or_else(|| {
            let known: Vec<String> = Self::ALL.iter().map(|r| format!("`{}`", r.as_str())).collect();
            format!("unknown `requires` flag `{flag}`; expected one of {}", known.join(", "))
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("acme-logs").is_ok());
        assert!(check_slug("a1").is_ok());
        for bad in ["", "Acme", "1acme", "acme_logs", "acme logs", "acme-", "ac--me"] {
            assert!(check_slug(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn config_vars_carry_the_prefix() {
        assert_eq!(default_prefix("acme-logs"), "ACME_LOGS");
        let prefix = Some("ACME_LOGS");
        assert!(check_config_var("ACME_LOGS_URL", prefix).is_ok());
        assert!(check_config_var("ACME_LOGS_", prefix).is_err());
        assert!(check_config_var("ACME_LOGSURL", prefix).is_err());
        assert!(check_config_var("acme_logs_url", prefix).is_err());
        assert!(check_config_var("OTHER_URL", prefix).is_err());
        assert!(check_config_var("OTHER_URL", None).is_ok());
        assert!(check_config_var("other_url", None).is_err());
    }

    #[test]
    fn production_urls_are_public_https() {
        assert!(check_production_url("https://logs.acme.example/heroku/resources").is_ok());
        assert!(check_production_url("https://logs.acme.example:8443").is_ok());
        assert!(check_production_url("http://logs.acme.example").is_err());
        assert!(check_production_url("https://localhost:5000").is_err());
        assert!(check_production_url("https://127.0.0.1").is_err());
        assert!(check_production_url("https://").is_err());
    }

    #[test]
    fn requirements_name_the_known_flags() {
        assert_eq!("log_input".parse::<Requirement>(), Ok(Requirement::LogInput));
        let err = "syslog".parse::<Requirement>().unwrap_err();
        assert!(err.contains("`syslog_drain`"), "{err}");
    }

    #[test]
    fn paths() {
        assert!(check_path("/heroku/resources").is_ok());
        for bad in ["", "/", "heroku", "/a/", "/a//b", "/{id}", "/a b"] {
            assert!(check_path(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
