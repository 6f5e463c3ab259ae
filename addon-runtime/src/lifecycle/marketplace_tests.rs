//! A resource belongs to the marketplace that provisioned it: calls from another marketplace
//! neither see it nor change it. No second adapter is needed to prove it: the lifecycle takes
//! the caller's marketplace as an argument.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{deprovision, plan_change, provision, Core};
use crate::base::answer::AddonError;
use crate::base::clock;
use crate::base::protocol::{
    Config, ConfigVar, DeprovisionRequest, Deprovisioned, Marketplace, PlanChangeRequest, PlanChanged,
    ProvisionRequest, Provisioned,
};
use crate::base::settings::Settings;
use crate::base::spec::AddonSpec;
use crate::services::store::Store;
use crate::services::vendor::addon::Addon;

/// Counts the vendor's calls and remembers the marketplace each one named.
#[derive(Default)]
struct Counting {
    calls: AtomicUsize,
    seen: std::sync::Mutex<Vec<Marketplace>>,
}

impl Counting {
    fn saw(&self, marketplace: Marketplace) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(marketplace);
    }
}

impl Addon for Counting {
    const SPEC: AddonSpec = AddonSpec::new("counting", "Counting", "https://counting.example")
        .config_vars(&["COUNTING_URL"])
        .plans(&["basic", "pro"]);

    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        self.saw(request.marketplace);
        let url = format!("https://counting.example/{}", request.uuid);
        Ok(Provisioned::new(Config::new().set(ConfigVar::new("COUNTING_URL"), url)))
    }

    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        self.saw(request.marketplace);
        Ok(PlanChanged::new())
    }

    async fn deprovision(&self, request: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
        self.saw(request.marketplace);
        Ok(Deprovisioned::now())
    }
}

async fn core() -> (Arc<Core<Counting>>, std::path::PathBuf) {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let dir = std::env::temp_dir().join(format!("addon-marketplaces-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.join("registry.db").display())).await.unwrap();
    let settings = Settings::development("password", "salt");
    (Arc::new(Core::new(Arc::new(Counting::default()), settings, store, clock::system())), dir)
}

#[tokio::test]
async fn a_resource_answers_only_its_own_marketplace() {
    let (core, dir) = core().await;
    let uuid = "01234567-89ab-cdef-0123-456789abcdef";
    let osb = Marketplace::OpenServiceBroker;
    let first = provision::provision(&core, ProvisionRequest::new(uuid, "basic").with_marketplace(osb)).await;
    let first = first.expect("the first provision is answered");
    assert_eq!(core.addon.seen.lock().unwrap().as_slice(), &[osb]);

    // The same marketplace replays; another one is refused, however often, and never sees
    // the answer (which holds the config).
    let replay = provision::provision(&core, ProvisionRequest::new(uuid, "basic").with_marketplace(osb));
    assert_eq!(replay.await.unwrap().body, first.body);
    for _ in 0..2 {
        let refused = provision::provision(&core, ProvisionRequest::new(uuid, "basic")).await.unwrap_err();
        assert_eq!(refused.status(), http::StatusCode::CONFLICT, "{}", refused.message());
        assert!(refused.message().contains("another marketplace"), "{}", refused.message());
    }

    // Heroku can neither change its plan nor remove it: to Heroku it does not exist.
    let heroku = Marketplace::Heroku;
    let changed = plan_change::change_plan(&core, heroku, uuid.into(), "pro".into()).await.unwrap_err();
    assert_eq!(changed.status(), http::StatusCode::NOT_FOUND);
    let removed = deprovision::deprovision(&core, heroku, uuid.into()).await.unwrap_err();
    assert_eq!(removed.status(), http::StatusCode::NOT_FOUND);
    assert_eq!(core.addon.calls.load(Ordering::SeqCst), 1, "only the first provision reached the vendor");

    // Its own marketplace can, and the vendor is told which one asked.
    plan_change::change_plan(&core, osb, uuid.into(), "pro".into()).await.unwrap();
    let removed = deprovision::deprovision(&core, osb, uuid.into()).await.unwrap();
    assert!(removed.later.is_none());
    assert_eq!(core.addon.seen.lock().unwrap().as_slice(), &[osb, osb, osb]);
    let record = core.store.resource(uuid).await.unwrap().unwrap();
    assert_eq!(record.marketplace, osb);
    assert_eq!(record.plan, "pro");
    drop(core);
    let _ = std::fs::remove_dir_all(dir);
}
