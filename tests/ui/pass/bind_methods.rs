//! `#[bind]` and `#[unbind]`: per-binding credentials made and revoked by the vendor's methods,
//! called through the generated `Addon` impl.

use std::collections::BTreeMap;

use addon_runtime::prelude::*;

struct Store;

#[heroku_addon(
    id = "acme-store",
    name = "Acme Store",
    config_vars = ["ACME_STORE_URL"],
    plans = ["basic"],
    production = "https://store.acme.example",
    osb(service_id = "6c1b9a52-3f0e-4d6b-8a7c-2e9f1d4b5a60"),
)]
impl Store {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn change_plan(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }

    #[bind]
    async fn bind(&self, request: BindRequest) -> Result<Credentials, AddonError> {
        Ok(Credentials::new().set("username", format!("user-{}", request.binding_id)))
    }

    #[unbind]
    async fn unbind(&self, request: UnbindRequest) -> Result<(), AddonError> {
        Err(AddonError::unavailable(format!("the user of {} could not be removed", request.binding_id)))
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let request = BindRequest::new("res-1", "b-1", "basic", BTreeMap::new());
    let credentials = runtime.block_on(Addon::bind(&Store, request)).unwrap();
    assert_eq!(credentials.get("username"), Some("user-b-1"));
    let refused = runtime.block_on(Addon::unbind(&Store, UnbindRequest::new("res-1", "b-1", "basic")));
    assert!(refused.unwrap_err().message().contains("b-1"));
}
