//! Acme Datastore: a hosted key-value store sold as a Heroku add-on.
//!
//! Creating a tenant's storage takes a while in a real datastore, so provisioning is
//! asynchronous: Heroku gets a 202 at once, and `#[complete_provision]` creates the tenant in
//! the background; the runtime then sets `ACME_DATASTORE_URL` through the Platform API and tells
//! Heroku the add-on is provisioned. The app reaches its data at that URL, which carries the
//! tenant's credentials: `PUT`, `GET` and `DELETE` on `/kv/<uuid>/<key>`.
//!
//! The same impl is also an Open Service Broker (`osb(...)` below): Cloud Foundry or SAP BTP
//! provision it with `PUT /v2/service_instances/<id>?accepts_incomplete=true`, poll
//! `last_operation` until the tenant exists, and bind apps to it, each binding getting
//! `ACME_DATASTORE_URL` as its credentials. One process, one registry, both marketplaces.

mod kv;
mod page;
mod tenants;

use addon_runtime::prelude::*;
use addon_runtime::Store;

/// The datastore's own routes: the key-value API and the dashboard.
pub fn routes(datastore: std::sync::Arc<Datastore>) -> axum::Router {
    kv::routes(datastore.clone()).merge(page::routes(datastore))
}

/// The plans, smallest first.
pub const PLANS: [&str; 3] = ["test", "small", "large"];

#[derive(Debug)]
pub struct Datastore {
    public_url: String,
    store: Store,
}

impl Datastore {
    /// `public_url` is where apps reach the key-value API; `store` is the runtime's registry,
    /// whose database also holds the tenants and their data.
    pub async fn open(public_url: impl Into<String>, store: Store) -> Result<Self, addon_runtime::Error> {
        tenants::create_tables(&store).await.map_err(|e| addon_runtime::Error::Store(e.to_string()))?;
        Ok(Self { public_url: public_url.into(), store })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// `http://user:secret@host/kv/<uuid>`: the URL with the tenant's credentials in it.
    fn tenant_url(&self, uuid: &str, username: &str, secret: &str) -> String {
        let (scheme, rest) = self.public_url.split_once("://").unwrap_or(("https", &self.public_url));
        format!("{scheme}://{username}:{secret}@{rest}/kv/{uuid}")
    }
}

#[heroku_addon(
    id = "acme-datastore",
    name = "Acme Datastore",
    config_vars = ["ACME_DATASTORE_URL"],
    plans = ["test", "small", "large"],
    regions = ["us", "eu"],
    production = "https://datastore.acme.example",
    port = 5100,
    osb(
        service_id = "3f7a1c52-8e0b-4d9a-b6c4-1a2b3c4d5e6f",
        description = "A hosted key-value store, reached over HTTP with per-tenant credentials",
        plan_ids(test = "9c2e5a1d-0f3b-4e6a-8d7c-5b4a3f2e1d0c"),
    ),
)]
impl Datastore {
    /// From Heroku or an Open Service Broker platform alike (`request.marketplace` says which).
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        if !PLANS.contains(&request.plan.as_str()) {
            return Err(AddonError::new(format!(
                "Acme Datastore has no `{}` plan. Choose one of: {}.",
                request.plan,
                PLANS.join(", ")
            )));
        }
        Ok(Provisioned::later("Your datastore is being created; ACME_DATASTORE_URL appears within a minute."))
    }

    #[complete_provision]
    async fn create_tenant(&self, job: ProvisionJob) -> Result<Config, AddonError> {
        // Safe to repeat: a tenant created by an earlier attempt is reused with its credentials.
        let tenant = tenants::create(&self.store, &job.uuid).await?;
        let url = self.tenant_url(&job.uuid, &tenant.username, &tenant.secret);
        Ok(Config::new().set(Self::ACME_DATASTORE_URL, url))
    }

    #[plan_change]
    async fn change_plan(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        if !PLANS.contains(&request.plan.as_str()) {
            return Err(AddonError::new(format!("Acme Datastore has no `{}` plan.", request.plan)));
        }
        Ok(PlanChanged::new().with_message(format!("Your datastore is now on the {} plan.", request.plan)))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        tenants::remove(&self.store, &request.uuid).await?;
        Ok(())
    }

    #[sso]
    async fn sign_in(&self, _login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        Ok(SsoRedirect::to("/dashboard"))
    }
}
