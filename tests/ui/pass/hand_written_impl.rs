// The runtime owns the trait: an add-on can implement it by hand, without the macro.
use std::future::Future;

use addon_runtime::prelude::*;
use addon_runtime::AddonSpec;

struct Queue;

impl Queue {
    const ACME_QUEUE_URL: ConfigVar = ConfigVar::new("ACME_QUEUE_URL");
}

impl addon_runtime::Addon for Queue {
    const SPEC: AddonSpec =
        AddonSpec::new("acme-queue", "Acme Queue", "https://queue.acme.example")
            .config_vars(&["ACME_QUEUE_URL"])
            .plans(&["basic"])
            .regions(&["us", "eu"])
            .port(5001);

    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        let url = format!("https://queue.acme.example/{}", request.uuid);
        Ok(Provisioned::new(
            Config::new().set(Self::ACME_QUEUE_URL, url),
        ))
    }

    fn plan_change(
        &self,
        _request: PlanChangeRequest,
    ) -> impl Future<Output = Result<PlanChanged, AddonError>> + Send {
        std::future::ready(Ok(PlanChanged::new()))
    }

    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<Deprovisioned, AddonError> {
        Ok(Deprovisioned::now())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let spec = <Queue as addon_runtime::Addon>::SPEC;
    assert_eq!(spec.id, "acme-queue");
    assert_eq!(spec.config_vars, ["ACME_QUEUE_URL"]);
    assert_eq!(spec.plans, ["basic"]);
    assert_eq!(spec.regions, ["us", "eu"]);
    assert_eq!(spec.port, 5001);
    assert_eq!(spec.manifest_path, None);
    assert!(spec.problems().is_empty());

    assert!(Queue
        .provision(ProvisionRequest::new("res-1", "basic"))
        .await
        .is_ok());
    assert!(Queue
        .plan_change(PlanChangeRequest::new("res-1", "pro", "basic"))
        .await
        .is_ok());
    assert!(Queue
        .deprovision(DeprovisionRequest::new("res-1", "basic"))
        .await
        .is_ok());
}
