//! The keyword tables: the attribute's keys and the handler kinds. Error messages, stripping
//! and code generation all read them from here, so they cannot disagree.

/// The keys `#[heroku_addon(...)]` accepts.
pub(crate) const ID: &str = "id";
pub(crate) const NAME: &str = "name";
pub(crate) const CONFIG_VARS: &str = "config_vars";
pub(crate) const CONFIG_VARS_PREFIX: &str = "config_vars_prefix";
pub(crate) const REGIONS: &str = "regions";
pub(crate) const REQUIRES: &str = "requires";
pub(crate) const PRODUCTION: &str = "production";
pub(crate) const BASE_PATH: &str = "base_path";
pub(crate) const SSO_PATH: &str = "sso_path";
pub(crate) const PORT: &str = "port";
pub(crate) const MANIFEST: &str = "manifest";

pub(crate) const KEYS: &[&str] = &[
    ID,
    NAME,
    CONFIG_VARS,
    CONFIG_VARS_PREFIX,
    REGIONS,
    REQUIRES,
    PRODUCTION,
    BASE_PATH,
    SSO_PATH,
    PORT,
    MANIFEST,
];

/// The method markers, in the order Heroku's lifecycle runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Provision,
    PlanChange,
    Deprovision,
    Sso,
    CompleteProvision,
    CompletePlanChange,
    CompleteDeprovision,
}

impl Kind {
    pub(crate) const ALL: [Kind; 7] = [
        Kind::Provision,
        Kind::PlanChange,
        Kind::Deprovision,
        Kind::Sso,
        Kind::CompleteProvision,
        Kind::CompletePlanChange,
        Kind::CompleteDeprovision,
    ];

    /// The attribute's name, which is also the `Addon` trait method and the `__private` adapter.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Provision => "provision",
            Kind::PlanChange => "plan_change",
            Kind::Deprovision => "deprovision",
            Kind::Sso => "sso",
            Kind::CompleteProvision => "complete_provision",
            Kind::CompletePlanChange => "complete_plan_change",
            Kind::CompleteDeprovision => "complete_deprovision",
        }
    }

    /// Heroku always calls the first three; the others have defaults.
    pub(crate) fn required(self) -> bool {
        matches!(self, Kind::Provision | Kind::PlanChange | Kind::Deprovision)
    }

    /// The type of the one argument after `&self`, in `__private`.
    pub(crate) fn argument(self) -> &'static str {
        match self {
            Kind::Provision => "ProvisionRequest",
            Kind::PlanChange => "PlanChangeRequest",
            Kind::Deprovision => "DeprovisionRequest",
            Kind::Sso => "SsoLogin",
            Kind::CompleteProvision => "ProvisionJob",
            Kind::CompletePlanChange => "PlanChangeJob",
            Kind::CompleteDeprovision => "DeprovisionJob",
        }
    }

    /// The success type of the method's `Result`, as vendors write it in the simplest case.
    pub(crate) fn success(self) -> &'static str {
        match self {
            Kind::Provision => "Provisioned",
            Kind::PlanChange => "PlanChanged",
            Kind::Deprovision | Kind::CompleteDeprovision => "()",
            Kind::Sso => "SsoRedirect",
            Kind::CompleteProvision | Kind::CompletePlanChange => "Config",
        }
    }

    /// The success type of the `Addon` trait's method, in `__private`.
    pub(crate) fn trait_success(self) -> &'static str {
        match self {
            Kind::Deprovision => "Deprovisioned",
            other => other.success(),
        }
    }

    /// An example signature for error messages.
    pub(crate) fn example(self) -> String {
        let arg = match self {
            Kind::Sso => "login",
            Kind::CompleteProvision | Kind::CompletePlanChange | Kind::CompleteDeprovision => "job",
            _ => "request",
        };
        format!(
            "async fn {}(&self, {arg}: {}) -> Result<{}, AddonError>",
            self.name(),
            self.argument(),
            self.success()
        )
    }

    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// "`a`, `b` or `c`", for "expected one of" messages.
pub(crate) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// The closest known name to a misspelt one, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(given, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, small strings only.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("region", KEYS), Some(REGIONS));
        assert_eq!(closest("config_var", KEYS), Some(CONFIG_VARS));
        assert_eq!(closest("colour", KEYS), None);
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
