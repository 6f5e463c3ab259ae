// Handlers may return the vendor's own error type: anything that implements
// `std::error::Error` becomes an `AddonError` (a 500 that reveals nothing).
use std::fmt;

use addon_runtime::prelude::*;

#[derive(Debug)]
enum StoreError {
    Full,
    Missing(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Full => f.write_str("the store is full"),
            StoreError::Missing(uuid) => write!(f, "no resource {uuid}"),
        }
    }
}

impl std::error::Error for StoreError {}

struct Store;

#[heroku_addon(
    id = "acme-store",
    name = "Acme Store",
    config_vars = ["ACME_STORE_URL"], plans = ["basic", "pro"],
    production = "https://store.acme.example",
)]
impl Store {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, StoreError> {
        Err(StoreError::Full)
    }

    #[plan_change]
    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, StoreError> {
        Err(StoreError::Missing(request.uuid))
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), std::io::Error> {
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let store = Store;
    let error = Addon::provision(&store, ProvisionRequest::new("res-1", "basic"))
        .await
        .expect_err("the store is full");
    assert_eq!(error.status().as_u16(), 500);
    assert!(!error.message().contains("full"), "{}", error.message());
    assert!(error.to_string().contains("the store is full"), "{error}");

    let error = Addon::plan_change(&store, PlanChangeRequest::new("res-1", "pro", "basic"))
        .await
        .expect_err("the resource is missing");
    assert!(error.to_string().contains("no resource res-1"), "{error}");

    assert!(
        Addon::deprovision(&store, DeprovisionRequest::new("res-1", "basic"))
            .await
            .is_ok()
    );
}
