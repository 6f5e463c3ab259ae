//! `GET /v2/catalog`, generated from the declaration: one service (`osb(service_id, ...)` and the
//! add-on's name), one plan per declared plan. A plan's id is the one `osb(plan_ids = [...])`
//! gives, else derived from the service id and the plan's slug: the first 16 bytes of
//! SHA-256(`"addon-runtime osb plan id v1\0" + service_id + "\0" + slug`), written as a UUID
//! (version 8, RFC 9562's custom version). The same declaration always gives the same ids, so
//! a platform's instances keep their plan across deploys; renaming a plan changes its id (give
//! it explicitly to keep the old one).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::base::spec::AddonSpec;
use addon_manifest::OsbService;

/// The catalog, built once at start-up.
pub(crate) struct Catalog {
    pub(crate) service_id: String,
    pub(crate) bindable: bool,
    /// `(slug, id)` for every declared plan, in the declaration's order.
    plans: Vec<(&'static str, String)>,
    body: Value,
}

impl Catalog {
    pub(crate) fn new(spec: &AddonSpec, service: &OsbService<'static>) -> Self {
        let plans: Vec<(&'static str, String)> = spec
            .plans
            .iter()
            .map(|slug| {
                let id = service
                    .given_plan_id(slug)
                    .map_or_else(|| derived_plan_id(service.service_id, slug), str::to_owned);
                (*slug, id)
            })
            .collect();
        let description = if service.description.is_empty() { spec.name } else { service.description };
        let plan_entries: Vec<Value> = plans
            .iter()
            .map(|(slug, id)| {
                json!({
                    "id": id,
                    "name": slug,
                    "description": format!("The {slug} plan of {}.", spec.name),
                    "bindable": service.bindable,
                })
            })
            .collect();
        let body = json!({
            "services": [{
                "id": service.service_id,
                "name": spec.id,
                "description": description,
                "bindable": service.bindable,
                "plan_updateable": spec.plans.len() > 1,
                "instances_retrievable": true,
                "bindings_retrievable": service.bindable,
                "metadata": { "displayName": spec.name },
                "plans": plan_entries,
            }]
        });
        Catalog { service_id: service.service_id.to_owned(), bindable: service.bindable, plans, body }
    }

    /// The catalog as `GET /v2/catalog` answers it.
    pub(crate) fn body(&self) -> &Value {
        &self.body
    }

    /// The declared plan a catalog id names.
    pub(crate) fn plan_slug(&self, plan_id: &str) -> Option<&'static str> {
        self.plans.iter().find(|(_, id)| id == plan_id).map(|(slug, _)| *slug)
    }
}

/// A plan's id when the declaration gives none: stable, and different for every service and slug.
pub(crate) fn derived_plan_id(service_id: &str, slug: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"addon-runtime osb plan id v1\0");
    hasher.update(service_id.as_bytes());
    hasher.update([0]);
    hasher.update(slug.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_uuids_per_service_and_plan() {
        let id = derived_plan_id("8f0c6b7e-3a51-4b8e-9c2d-5e4f3a2b1c0d", "small");
        // Computed independently (Python's hashlib) and written down: a change here would move
        // every platform's instances off their plan.
        assert_eq!(id, "cfa497a1-8500-8f8c-87ea-243db4113212");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8");
        assert_ne!(id, derived_plan_id("8f0c6b7e-3a51-4b8e-9c2d-5e4f3a2b1c0d", "large"));
        assert_ne!(id, derived_plan_id("another-service", "small"));
    }
}
