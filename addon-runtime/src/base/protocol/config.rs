use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The name of a config var the manifest declares.
///
/// `#[heroku_addon]` generates one associated constant per declared var (`Self::ACME_LOGS_URL`),
/// so a misspelt or undeclared name does not compile. The runtime checks names again before
/// answering Heroku, which covers hand-written `Addon` impls.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigVar(&'static str);

impl ConfigVar {
    /// A config var by name. Prefer the constants the macro generates.
    pub const fn new(name: &'static str) -> Self {
        ConfigVar(name)
    }

    /// The name, such as `ACME_LOGS_URL`.
    pub const fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for ConfigVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for ConfigVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Config vars and their values, as Heroku sets them on the app. Values are always strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    vars: Vec<(ConfigVar, String)>,
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a var, replacing an earlier value of the same var.
    #[must_use]
    pub fn set(mut self, var: ConfigVar, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.vars.iter_mut().find(|(v, _)| *v == var) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((var, value)),
        }
        self
    }

    /// The value of a var, if set.
    pub fn get(&self, var: ConfigVar) -> Option<&str> {
        self.vars.iter().find(|(v, _)| *v == var).map(|(_, value)| value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// The vars in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (ConfigVar, &str)> {
        self.vars.iter().map(|(var, value)| (*var, value.as_str()))
    }

    /// Checks what Heroku requires of config: every name declared in the manifest and every
    /// `*_URL` value a full URL. A failure is a bug in the add-on, reported in the log.
    pub(crate) fn check(&self, declared: &[&str]) -> Result<(), String> {
        addon_manifest::rules::check_config(self.iter().map(|(var, value)| (var.name(), value)), declared)
    }
}

/// Values are secrets (credentials in URLs), so `Debug` shows only the names.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.iter().map(|(var, _)| var)).finish()
    }
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.vars.len()))?;
        for (var, value) in &self.vars {
            map.serialize_entry(var.name(), value)?;
        }
        map.end()
    }
}

impl<const N: usize> From<[(ConfigVar, String); N]> for Config {
    fn from(vars: [(ConfigVar, String); N]) -> Self {
        vars.into_iter().fold(Config::new(), |config, (var, value)| config.set(var, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: ConfigVar = ConfigVar::new("ACME_URL");
    const TOKEN: ConfigVar = ConfigVar::new("ACME_TOKEN");

    #[test]
    fn set_replaces_and_keeps_order() {
        let config =
            Config::new().set(URL, "https://a.example").set(TOKEN, "t").set(URL, "https://b.example");
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"ACME_URL":"https://b.example","ACME_TOKEN":"t"}"#
        );
    }

    #[test]
    fn check_refuses_undeclared_names_and_bad_urls() {
        let declared = ["ACME_URL", "ACME_TOKEN"];
        assert!(Config::new().set(URL, "postgres://u:p@db.example:5432/x").check(&declared).is_ok());
        assert!(Config::new().set(URL, "db.example").check(&declared).is_err());
        assert!(Config::new().set(URL, "https://").check(&declared).is_err());
        assert!(Config::new().set(ConfigVar::new("OTHER_URL"), "https://x").check(&declared).is_err());
    }

    #[test]
    fn debug_hides_values() {
        let config = Config::new().set(TOKEN, "secret-value");
        assert!(!format!("{config:?}").contains("secret-value"));
    }
}
