use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// A customer's space in Acme Logs, one per Heroku add-on resource.
#[derive(Clone)]
pub struct Tenant {
    pub uuid: String,
    pub plan: String,
    /// The credential the app uses with the Acme Logs API (`ACME_LOGS_TOKEN`).
    pub api_token: String,
    /// Identifies this tenant's log drain traffic (`Logplex-Drain-Token`).
    pub drain_token: Option<String>,
}

// Tokens are credentials: `Debug` leaves them out.
impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("uuid", &self.uuid)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// The tenants, in memory.
#[derive(Default, Debug)]
pub struct Tenants {
    by_uuid: RwLock<HashMap<String, Tenant>>,
}

impl Tenants {
    /// Creates the tenant for a resource.
    pub fn create(&self, uuid: &str, plan: &str, drain_token: Option<&str>) -> Tenant {
        let tenant = Tenant {
            uuid: uuid.to_owned(),
            plan: plan.to_owned(),
            api_token: addon_runtime::random_secret(),
            drain_token: drain_token.map(str::to_owned),
        };
        self.write().insert(uuid.to_owned(), tenant.clone());
        tenant
    }

    pub fn get(&self, uuid: &str) -> Option<Tenant> {
        self.read().get(uuid).cloned()
    }

    /// Returns false when there is no such tenant.
    pub fn set_plan(&self, uuid: &str, plan: &str) -> bool {
        self.write()
            .get_mut(uuid)
            .map(|t| plan.clone_into(&mut t.plan))
            .is_some()
    }

    pub fn remove(&self, uuid: &str) {
        self.write().remove(uuid);
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Tenant>> {
        self.by_uuid.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Tenant>> {
        self.by_uuid.write().unwrap_or_else(PoisonError::into_inner)
    }
}
