use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

use super::{Marketplace, OriginatingIdentity, Plan};

/// Heroku's request to create a resource (`POST {base_path}`).
///
/// Every field Heroku may leave out is optional; fields this crate does not know are accepted
/// and ignored, as the Partner API asks. Legacy v1 fields are kept for vendors migrating from them.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct ProvisionRequest {
    /// Heroku's unique id of the add-on resource: the key of everything.
    pub uuid: String,
    /// The plan, such as `basic` (without the `addon:` prefix): always one of the declared plans.
    pub plan: Plan,
    /// Where the app runs, such as `amazon-web-services::us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// The resource's logical name, such as `acme-inc-primary-database`.
    #[serde(default)]
    pub name: Option<String>,
    /// The Platform API URL of this add-on.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// A grant to exchange for a Platform API token scoped to this resource (expires in minutes).
    #[serde(default)]
    pub oauth_grant: Option<OauthGrant>,
    /// Options given with `heroku addons:create <id> -- --key=value`, as strings.
    #[serde(default, deserialize_with = "options_as_strings")]
    pub options: BTreeMap<String, String>,
    /// Where to write to the app's log (with `requires = ["log_input"]`).
    #[serde(default)]
    pub log_input_url: Option<String>,
    /// The token that identifies this resource's log drain (with `requires = ["syslog_drain"]`).
    #[serde(default)]
    pub log_drain_token: Option<String>,
    /// Legacy v1 app identifier (`app123@heroku.com`). Do not key anything on it.
    #[serde(default)]
    pub heroku_id: Option<String>,
    /// Legacy v1 logplex token.
    #[serde(default)]
    pub logplex_token: Option<String>,
    /// The marketplace the request came through (set by its adapter, never read from the body).
    #[serde(skip)]
    pub marketplace: Marketplace,
    /// Who asked, where the marketplace says (DigitalOcean: `email`, an address that forwards to
    /// the user). Set by the adapter, never read from a Heroku body.
    #[serde(skip)]
    pub email: Option<String>,
    /// The team that asked, where the marketplace says (DigitalOcean: `creator_id`).
    #[serde(skip)]
    pub team_id: Option<String>,
    /// The platform user who asked, where the marketplace says (Open Service Broker platforms
    /// send `X-Broker-API-Originating-Identity`); `None` from Heroku.
    #[serde(skip)]
    pub originating_identity: Option<OriginatingIdentity>,
    /// Set by an adapter whose platform cannot wait for a background provision (OSB without
    /// `accepts_incomplete=true`): a `Provisioned::later` is refused and nothing is recorded.
    #[serde(skip)]
    pub(crate) synchronous_only: bool,
}

impl ProvisionRequest {
    /// A request with only the fields Heroku always sends; for tests.
    pub fn new(uuid: impl Into<String>, plan: impl Into<Plan>) -> Self {
        Self {
            uuid: uuid.into(),
            plan: plan.into(),
            region: None,
            name: None,
            callback_url: None,
            oauth_grant: None,
            options: BTreeMap::new(),
            log_input_url: None,
            log_drain_token: None,
            heroku_id: None,
            logplex_token: None,
            marketplace: Marketplace::Heroku,
            email: None,
            team_id: None,
            originating_identity: None,
            synchronous_only: false,
        }
    }

    /// The same request, as it came through `marketplace`.
    pub fn with_marketplace(mut self, marketplace: Marketplace) -> Self {
        self.marketplace = marketplace;
        self
    }
}

/// The OAuth grant sent with a provisioning request.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct OauthGrant {
    pub code: String,
    /// When the code expires, as Heroku wrote it (formats vary: `2016-03-03T18:01:31-0800`).
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default, rename = "type")]
    pub grant_type: Option<String>,
}

/// Heroku's request to move a resource to another plan (`PUT {base_path}/{id}`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PlanChangeRequest {
    pub uuid: String,
    /// The plan to move to: always one of the declared plans.
    pub plan: Plan,
    /// The plan the resource is on now.
    pub previous_plan: Plan,
    /// The marketplace the resource was sold through.
    pub marketplace: Marketplace,
}

impl PlanChangeRequest {
    pub fn new(uuid: impl Into<String>, plan: impl Into<Plan>, previous_plan: impl Into<Plan>) -> Self {
        Self {
            uuid: uuid.into(),
            plan: plan.into(),
            previous_plan: previous_plan.into(),
            marketplace: Marketplace::Heroku,
        }
    }

    /// The same request, for a resource of `marketplace`.
    pub fn with_marketplace(mut self, marketplace: Marketplace) -> Self {
        self.marketplace = marketplace;
        self
    }
}

/// Heroku's request to remove a resource (`DELETE {base_path}/{id}`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeprovisionRequest {
    pub uuid: String,
    /// The plan the resource was on.
    pub plan: Plan,
    /// The marketplace the resource was sold through.
    pub marketplace: Marketplace,
}

impl DeprovisionRequest {
    pub fn new(uuid: impl Into<String>, plan: impl Into<Plan>) -> Self {
        Self { uuid: uuid.into(), plan: plan.into(), marketplace: Marketplace::Heroku }
    }

    /// The same request, for a resource of `marketplace`.
    pub fn with_marketplace(mut self, marketplace: Marketplace) -> Self {
        self.marketplace = marketplace;
        self
    }
}

/// The body of a plan change: only `plan` matters; Heroku may send more.
#[derive(Deserialize)]
pub(crate) struct PlanChangeBody {
    pub(crate) plan: String,
}

/// Heroku sends options as strings; a number or boolean from another client is kept as its
/// JSON text rather than refused.
fn options_as_strings<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(deserializer)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => (key, s),
            other => (key, other.to_string()),
        })
        .collect())
}

/// A resource id must be safe to use as a URL path segment and a storage key.
pub(crate) fn check_resource_id(field: &str, id: &str) -> Result<(), String> {
    addon_manifest::rules::check_resource_id(field, id)
}

/// Plan slugs are short identifiers; anything else is a malformed request.
pub(crate) fn check_plan(plan: &str) -> Result<(), String> {
    addon_manifest::rules::check_plan(plan)
}

// Grant codes, drain tokens and log input URLs are credentials: `Debug` leaves them out.
impl fmt::Debug for ProvisionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvisionRequest")
            .field("uuid", &self.uuid)
            .field("plan", &self.plan)
            .field("region", &self.region)
            .field("name", &self.name)
            .field("callback_url", &self.callback_url)
            .field("oauth_grant", &self.oauth_grant)
            .field("options", &self.options)
            .field("log_input_url", &self.log_input_url.as_ref().map(|_| "<redacted>"))
            .field("log_drain_token", &self.log_drain_token.as_ref().map(|_| "<redacted>"))
            .field("heroku_id", &self.heroku_id)
            .field("marketplace", &self.marketplace)
            .field("email", &self.email)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OauthGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OauthGrant")
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_body_with_unknown_fields() {
        let body = r#"{
            "callback_url": "https://api.heroku.com/addons/01234567-89ab-cdef-0123-456789abcdef",
            "name": "acme-inc-primary-database",
            "oauth_grant": {"code": "c0de", "expires_at": "2016-03-03T18:01:31-0800", "type": "authorization_code"},
            "options": {"foo": "bar", "baz": true, "n": 3},
            "plan": "basic",
            "region": "amazon-web-services::us-east-1",
            "uuid": "01234567-89ab-cdef-0123-456789abcdef",
            "log_input_url": "https://token:t.x@1.us.logplex.io/logs",
            "log_drain_token": "d.0123",
            "something_new": {"nested": [1, 2]}
        }"#;
        let req: ProvisionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.plan, "basic");
        assert_eq!(req.options["baz"], "true");
        assert_eq!(req.options["n"], "3");
        assert_eq!(req.oauth_grant.as_ref().unwrap().code, "c0de");
        let debug = format!("{req:?}");
        assert!(!debug.contains("c0de") && !debug.contains("d.0123") && !debug.contains("t.x"), "{debug}");
    }

    #[test]
    fn legacy_body_with_nulls() {
        let body = r#"{"heroku_id": "app123@heroku.com", "plan": "test", "callback_url": "http://x",
                       "logplex_token": null, "options": null, "region": "us", "uuid": "abc-123"}"#;
        let req: ProvisionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.heroku_id.as_deref(), Some("app123@heroku.com"));
        assert!(req.name.is_none() && req.oauth_grant.is_none() && req.options.is_empty());
    }

    #[test]
    fn resource_ids() {
        assert!(check_resource_id("uuid", "01234567-89ab-cdef-0123-456789abcdef").is_ok());
        for bad in ["", "../etc", "a b", "a/b", &"x".repeat(129)] {
            assert!(check_resource_id("uuid", bad).is_err(), "{bad:?}");
        }
    }
}
