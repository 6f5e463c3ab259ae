//! What every OSB route works with: the lifecycle core and the catalog, and the checks on the
//! ids a request names that every route shares. Also `GET /v2/catalog`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::catalog::Catalog;
use super::{dashboard, reply};
use crate::base::answer::AddonError;
use crate::base::protocol::Marketplace;
use crate::lifecycle::Core;
use crate::services::store::{OsbInstance, ResourceRecord};
use crate::services::vendor::addon::Addon;

/// What every OSB route works with: the core and the catalog.
pub(crate) struct Broker<A> {
    pub(crate) core: Arc<Core<A>>,
    pub(crate) catalog: Arc<Catalog>,
}

impl<A> Clone for Broker<A> {
    fn clone(&self) -> Self {
        Broker { core: self.core.clone(), catalog: self.catalog.clone() }
    }
}

impl<A: Addon> Broker<A> {
    pub(crate) fn check_service(&self, service_id: &str) -> Result<(), AddonError> {
        if service_id == self.catalog.service_id {
            Ok(())
        } else {
            Err(AddonError::osb_unknown_service(service_id))
        }
    }

    pub(crate) fn plan_slug(&self, plan_id: &str) -> Result<&'static str, AddonError> {
        self.catalog.plan_slug(plan_id).ok_or_else(|| AddonError::osb_unknown_plan(plan_id))
    }

    /// The resource behind an instance id, if this marketplace provisioned it.
    pub(crate) async fn instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<(OsbInstance, ResourceRecord)>, AddonError> {
        let Some(instance) = self.core.store.osb_instance(instance_id).await? else { return Ok(None) };
        let record = self.core.store.resource(instance_id).await?;
        let record =
            record.filter(|r| r.uuid == instance_id && r.marketplace == Marketplace::OpenServiceBroker);
        Ok(record.map(|record| (instance, record)))
    }

    pub(crate) fn dashboard_url(&self, instance_id: &str) -> String {
        dashboard::url(&self.core, instance_id)
    }
}

/// `GET /v2/catalog`.
pub(crate) async fn catalog<A: Addon>(State(broker): State<Broker<A>>) -> Response {
    reply::json_response(StatusCode::OK, broker.catalog.body())
}
