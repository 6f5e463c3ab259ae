use std::collections::BTreeMap;
use std::fmt;

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::base::cipher::field;
use crate::base::protocol::Marketplace;

/// Where a resource is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceState {
    /// A provision is under way (or its process died; the claim then expires).
    Provisioning,
    /// Accepted for asynchronous provisioning (202): a job finishes it.
    Pending,
    Provisioned,
    /// Asynchronous provisioning did not finish within Heroku's twelve hours.
    Failed,
    /// Removed; Heroku's calls for it get 410.
    Deprovisioned,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "provisioning",
            Self::Pending => "pending",
            Self::Provisioned => "provisioned",
            Self::Failed => "failed",
            Self::Deprovisioned => "deprovisioned",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, sqlx::Error> {
        match text {
            "provisioning" => Ok(Self::Provisioning),
            "pending" => Ok(Self::Pending),
            "provisioned" => Ok(Self::Provisioned),
            "failed" => Ok(Self::Failed),
            "deprovisioned" => Ok(Self::Deprovisioned),
            other => Err(sqlx::Error::Decode(format!("unknown resource state `{other}`").into())),
        }
    }
}

/// The runtime's record of one add-on resource.
#[derive(Clone)]
#[non_exhaustive]
pub struct ResourceRecord {
    /// Heroku's uuid: the key.
    pub uuid: String,
    /// The id returned to Heroku (the uuid unless the vendor chose another).
    pub id: String,
    pub plan: String,
    pub state: ResourceState,
    pub region: Option<String>,
    pub name: Option<String>,
    pub callback_url: Option<String>,
    /// Identifies the resource's log drain traffic (`Logplex-Drain-Token`).
    pub log_drain_token: Option<String>,
    pub options: BTreeMap<String, String>,
    /// The config vars as last returned to Heroku.
    pub config: BTreeMap<String, String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The marketplace that provisioned it, and the only one whose calls reach it.
    pub marketplace: Marketplace,
    /// Since when (Unix milliseconds) the resource is suspended: its data is kept, its sign-in,
    /// sessions and API key are refused.
    pub suspended_at: Option<i64>,
}

impl ResourceRecord {
    /// The value of a config var as last set.
    pub fn config_var(&self, name: &str) -> Option<&str> {
        self.config.get(name).map(String::as_str)
    }
}

// Config values and drain tokens are credentials: `Debug` names them only.
impl fmt::Debug for ResourceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceRecord")
            .field("uuid", &self.uuid)
            .field("id", &self.id)
            .field("plan", &self.plan)
            .field("state", &self.state)
            .field("marketplace", &self.marketplace)
            .field("region", &self.region)
            .field("name", &self.name)
            .field("config", &self.config.keys().collect::<Vec<_>>())
            .field("suspended_at", &self.suspended_at)
            .field("log_drain_token", &self.log_drain_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

pub(super) fn from_row(store: &super::Store, row: &AnyRow) -> Result<ResourceRecord, sqlx::Error> {
    let uuid: String = row.try_get("uuid")?;
    // A config sealed with a key no longer configured reads as empty (and is logged); the
    // recorded answer is not read here: a replay reads it alone (`glance.rs`).
    let stored: Option<&str> = row.try_get("config")?;
    let config = stored.map(|text| store.open_sealed(&uuid, field::CONFIG, text)).transpose();
    let config = config.unwrap_or_else(|why| {
        tracing::warn!(uuid = %uuid, field = field::CONFIG, "a sealed value in the registry did not open: {why}");
        None
    });
    let id: Option<String> = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    Ok(ResourceRecord {
        id: id.unwrap_or_else(|| uuid.clone()),
        uuid,
        plan: row.try_get("plan")?,
        state: ResourceState::parse(&state)?,
        region: row.try_get("region")?,
        name: row.try_get("name")?,
        callback_url: row.try_get("callback_url")?,
        log_drain_token: row.try_get("log_drain_token")?,
        options: super::json_map(row, "options")?,
        config: config.and_then(|json: String| serde_json::from_str(&json).ok()).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        marketplace: marketplace(row)?,
        suspended_at: row.try_get("suspended_at")?,
    })
}

/// The row's `marketplace` column, as the type.
pub(super) fn marketplace(row: &AnyRow) -> Result<Marketplace, sqlx::Error> {
    let name: &str = row.try_get("marketplace")?;
    Marketplace::parse(name)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown marketplace `{name}`").into()))
}
