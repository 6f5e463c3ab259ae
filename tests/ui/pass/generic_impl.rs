// The add-on type may be generic: the impl's generics carry over to `impl Addon` and to the
// config var constants.
use std::sync::Mutex;

use addon_runtime::prelude::*;

struct Store<T> {
    label: T,
    uuids: Mutex<Vec<String>>,
}

#[heroku_addon(
    id = "acme-store",
    name = "Acme Store",
    config_vars = ["ACME_STORE_URL"], plans = ["basic", "pro"],
    production = "https://store.acme.example",
)]
impl<T: Send + Sync + 'static> Store<T> {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        self.uuids.lock().unwrap().push(request.uuid.clone());
        let url = format!("https://store.acme.example/{}", request.uuid);
        Ok(Provisioned::new(
            Config::new().set(Self::ACME_STORE_URL, url),
        ))
    }

    #[plan_change]
    async fn plan_change(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        self.uuids
            .lock()
            .unwrap()
            .retain(|uuid| *uuid != request.uuid);
        Ok(())
    }

    fn label(&self) -> &T {
        &self.label
    }
}

fn spec_of<A: Addon>(_: &A) -> addon_runtime::AddonSpec {
    A::SPEC
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(<Store<String> as Addon>::SPEC.id, "acme-store");
    assert_eq!(Store::<String>::ACME_STORE_URL.name(), "ACME_STORE_URL");

    let store = Store {
        label: 7u8,
        uuids: Mutex::new(Vec::new()),
    };
    assert_eq!(spec_of(&store).name, "Acme Store");
    assert_eq!(*store.label(), 7);
    assert!(
        Addon::provision(&store, ProvisionRequest::new("res-1", "basic"))
            .await
            .is_ok()
    );
    assert_eq!(*store.uuids.lock().unwrap(), ["res-1"]);
    assert!(
        Addon::deprovision(&store, DeprovisionRequest::new("res-1", "basic"))
            .await
            .is_ok()
    );
    assert!(store.uuids.lock().unwrap().is_empty());
}
