//! Bindings: the credentials an app gets from a marketplace that hands them out at bind time
//! (the Open Service Broker API) rather than in the provision answer (Heroku, DigitalOcean).

use std::collections::BTreeMap;
use std::fmt;

use super::{Marketplace, Plan};

/// A platform's request to bind an app to a resource (`#[bind]`).
///
/// Called once per binding id: a repeated bind gets the credentials recorded the first time.
#[derive(Clone)]
#[non_exhaustive]
pub struct BindRequest {
    /// The resource's uuid (the OSB instance id).
    pub uuid: String,
    /// The platform's id of this binding: key per-binding credentials on it.
    pub binding_id: String,
    /// The resource's current plan.
    pub plan: Plan,
    /// The bind's `parameters`, as strings (other JSON as its text).
    pub parameters: BTreeMap<String, String>,
    /// The app being bound (`bind_resource.app_guid`), when the platform says.
    pub app_guid: Option<String>,
    /// The resource's config as it stands: what the default `#[bind]` hands out.
    pub config: BTreeMap<String, String>,
    /// The marketplace asking.
    pub marketplace: Marketplace,
}

impl BindRequest {
    /// A bind from the Open Service Broker API with no parameters or app; for tests.
    pub fn new(
        uuid: impl Into<String>,
        binding_id: impl Into<String>,
        plan: impl Into<Plan>,
        config: BTreeMap<String, String>,
    ) -> Self {
        Self {
            uuid: uuid.into(),
            binding_id: binding_id.into(),
            plan: plan.into(),
            parameters: BTreeMap::new(),
            app_guid: None,
            config,
            marketplace: Marketplace::OpenServiceBroker,
        }
    }
}

/// A platform's request to remove a binding (`#[unbind]`): revoke what `#[bind]` handed out.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UnbindRequest {
    pub uuid: String,
    pub binding_id: String,
    pub plan: Plan,
    pub marketplace: Marketplace,
}

impl UnbindRequest {
    /// An unbind from the Open Service Broker API; for tests.
    pub fn new(uuid: impl Into<String>, binding_id: impl Into<String>, plan: impl Into<Plan>) -> Self {
        Self {
            uuid: uuid.into(),
            binding_id: binding_id.into(),
            plan: plan.into(),
            marketplace: Marketplace::OpenServiceBroker,
        }
    }
}

/// The credentials of one binding, as the app receives them: names and string values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(BTreeMap<String, String>);

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// The same credentials with `name` set to `value`.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl From<BTreeMap<String, String>> for Credentials {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

// Credentials and config values are secrets: `Debug` names them only.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl fmt::Debug for BindRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindRequest")
            .field("uuid", &self.uuid)
            .field("binding_id", &self.binding_id)
            .field("plan", &self.plan)
            .field("parameters", &self.parameters)
            .field("app_guid", &self.app_guid)
            .field("config", &self.config.keys().collect::<Vec<_>>())
            .field("marketplace", &self.marketplace)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_secrets_only() {
        let credentials = Credentials::new().set("password", "hunter2-secret");
        let request = BindRequest {
            uuid: "u".into(),
            binding_id: "b".into(),
            plan: "basic".into(),
            parameters: BTreeMap::new(),
            app_guid: None,
            config: BTreeMap::from([("URL".to_owned(), "https://user:pw-secret@x".to_owned())]),
            marketplace: Marketplace::OpenServiceBroker,
        };
        let shown = format!("{credentials:?} {request:?}");
        assert!(shown.contains("password") && shown.contains("URL"), "{shown}");
        assert!(!shown.contains("hunter2-secret") && !shown.contains("pw-secret"), "{shown}");
    }
}
