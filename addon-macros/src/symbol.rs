//! The keyword tables: the attribute's keys and the handler kinds. Error messages, stripping
//! and code generation all read them from here, so they cannot disagree.

/// The keys `#[heroku_addon(...)]` accepts. Each key but `crate` and `manifest` is a field of
/// `addon_manifest::Declaration` and the name of its setter, which the generated `SPEC` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Id,
    Name,
    ConfigVars,
    ConfigVarsPrefix,
    Plans,
    Regions,
    Requires,
    Production,
    BasePath,
    SsoPath,
    Port,
    Manifest,
    Crate,
    DigitalOcean,
    Osb,
    ApiKeyVar,
}

/// What a key takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Str,
    List,
    Port,
    /// Settings of its own in parentheses (`osb(service_id = "...")`), or, where every setting has
    /// a default, the key alone (`digitalocean`).
    Group,
}

impl Key {
    pub(crate) const ALL: [Key; 16] = [
        Key::Id,
        Key::Name,
        Key::ConfigVars,
        Key::ConfigVarsPrefix,
        Key::Plans,
        Key::Regions,
        Key::Requires,
        Key::Production,
        Key::BasePath,
        Key::SsoPath,
        Key::Port,
        Key::Manifest,
        Key::Crate,
        Key::DigitalOcean,
        Key::Osb,
        Key::ApiKeyVar,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::Name => "name",
            Key::ConfigVars => "config_vars",
            Key::ConfigVarsPrefix => "config_vars_prefix",
            Key::Plans => "plans",
            Key::Regions => "regions",
            Key::Requires => "requires",
            Key::Production => "production",
            Key::BasePath => "base_path",
            Key::SsoPath => "sso_path",
            Key::Port => "port",
            Key::Manifest => "manifest",
            Key::Crate => "crate",
            Key::DigitalOcean => "digitalocean",
            Key::Osb => "osb",
            Key::ApiKeyVar => "api_key",
        }
    }

    pub(crate) fn shape(self) -> Shape {
        match self {
            Key::ConfigVars | Key::Plans | Key::Regions | Key::Requires => Shape::List,
            Key::Port => Shape::Port,
            Key::DigitalOcean => Shape::Group,
            Key::Osb => Shape::Group,
            _ => Shape::Str,
        }
    }

    /// For the keys a declaration cannot do without, what to add when one is missing.
    pub(crate) fn required_example(self) -> Option<&'static str> {
        match self {
            Key::Id => Some("id = \"acme-logs\""),
            Key::Name => Some("name = \"Acme Logs\""),
            Key::ConfigVars => Some("config_vars = [\"ACME_LOGS_URL\"]"),
            Key::Plans => Some("plans = [\"hobby\", \"pro\"]"),
            Key::Production => Some("production = \"https://logs.acme.example\""),
            _ => None,
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn names() -> Vec<&'static str> {
        Key::ALL.iter().map(|k| k.name()).collect()
    }
}

/// The keys inside `digitalocean(...)`: each a setter of `addon_manifest::DigitalOceanListing`.
pub(crate) const DIGITALOCEAN_KEYS: [&str; 2] = ["base_path", "slug"];
/// The settings `osb(...)` takes: the Open Service Broker service the add-on also offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OsbKey {
    ServiceId,
    Description,
    Bindable,
    PlanIds,
}

impl OsbKey {
    pub(crate) const ALL: [OsbKey; 4] =
        [OsbKey::ServiceId, OsbKey::Description, OsbKey::Bindable, OsbKey::PlanIds];

    pub(crate) fn name(self) -> &'static str {
        match self {
            OsbKey::ServiceId => "service_id",
            OsbKey::Description => "description",
            OsbKey::Bindable => "bindable",
            OsbKey::PlanIds => "plan_ids",
        }
    }

    /// How the setting is written, for messages.
    pub(crate) fn example(self) -> &'static str {
        match self {
            OsbKey::ServiceId => "service_id = \"8f0c6b7e-3a51-4b8e-9c2d-5e4f3a2b1c0d\"",
            OsbKey::Description => "description = \"...\"",
            OsbKey::Bindable => "bindable = false",
            OsbKey::PlanIds => "plan_ids(hobby = \"<a GUID>\")",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<OsbKey> {
        OsbKey::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn names() -> Vec<&'static str> {
        OsbKey::ALL.iter().map(|k| k.name()).collect()
    }
}

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
    Notification,
    Bind,
    Unbind,
}

impl Kind {
    pub(crate) const ALL: [Kind; 10] = [
        Kind::Provision,
        Kind::PlanChange,
        Kind::Deprovision,
        Kind::Sso,
        Kind::CompleteProvision,
        Kind::CompletePlanChange,
        Kind::CompleteDeprovision,
        Kind::Notification,
        Kind::Bind,
        Kind::Unbind,
    ];

    /// The attribute's name, which is also the `Addon` trait method's.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Provision => "provision",
            Kind::PlanChange => "plan_change",
            Kind::Deprovision => "deprovision",
            Kind::Sso => "sso",
            Kind::CompleteProvision => "complete_provision",
            Kind::CompletePlanChange => "complete_plan_change",
            Kind::CompleteDeprovision => "complete_deprovision",
            Kind::Notification => "notification",
            Kind::Bind => "bind",
            Kind::Unbind => "unbind",
        }
    }

    /// The kind in camel case. `__private`'s `handler_kind!` defines, per kind, the names the
    /// expansion builds from it (`exports.rs`): `{Kind}Argument`, `{Kind}Input`, `{Kind}Success`
    /// and `{Kind}Future`.
    pub(crate) fn camel(self) -> &'static str {
        match self {
            Kind::Provision => "Provision",
            Kind::PlanChange => "PlanChange",
            Kind::Deprovision => "Deprovision",
            Kind::Sso => "Sso",
            Kind::CompleteProvision => "CompleteProvision",
            Kind::CompletePlanChange => "CompletePlanChange",
            Kind::CompleteDeprovision => "CompleteDeprovision",
            Kind::Notification => "Notification",
            Kind::Bind => "Bind",
            Kind::Unbind => "Unbind",
        }
    }

    /// Heroku always calls the first three; the others have defaults.
    pub(crate) fn required(self) -> bool {
        matches!(self, Kind::Provision | Kind::PlanChange | Kind::Deprovision)
    }

    /// The type of the one argument after `&self`, for messages.
    pub(crate) fn argument(self) -> &'static str {
        match self {
            Kind::Provision => "ProvisionRequest",
            Kind::PlanChange => "PlanChangeRequest",
            Kind::Deprovision => "DeprovisionRequest",
            Kind::Sso => "SsoLogin",
            Kind::CompleteProvision => "ProvisionJob",
            Kind::CompletePlanChange => "PlanChangeJob",
            Kind::CompleteDeprovision => "DeprovisionJob",
            Kind::Notification => "Notification",
            Kind::Bind => "BindRequest",
            Kind::Unbind => "UnbindRequest",
        }
    }

    /// The success type of the method's `Result`, as vendors write it in the simplest case, for
    /// messages.
    pub(crate) fn success(self) -> &'static str {
        match self {
            Kind::Provision => "Provisioned",
            Kind::PlanChange => "PlanChanged",
            Kind::Deprovision | Kind::CompleteDeprovision | Kind::Notification | Kind::Unbind => "()",
            Kind::Bind => "Credentials",
            Kind::Sso => "SsoRedirect",
            Kind::CompleteProvision | Kind::CompletePlanChange => "Config",
        }
    }

    /// An example signature for error messages.
    pub(crate) fn example(self) -> String {
        let arg = match self {
            Kind::Sso => "login",
            Kind::Notification => "notification",
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
        let keys = Key::names();
        assert_eq!(closest("region", &keys), Some("regions"));
        assert_eq!(closest("config_var", &keys), Some("config_vars"));
        assert_eq!(closest("colour", &keys), None);
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }

    #[test]
    fn names_round_trip() {
        for key in Key::ALL {
            assert_eq!(Key::from_name(key.name()), Some(key));
        }
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.camel().to_lowercase(), kind.name().replace('_', ""));
        }
    }
}
