//! The dashboard a user reaches through Heroku SSO: the resource's plan and how many keys it holds.

use std::sync::Arc;

use addon_runtime::{AddonError, Session};
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::{tenants, Datastore};

pub(crate) fn routes(datastore: Arc<Datastore>) -> Router {
    Router::new().route("/dashboard", get(dashboard)).with_state(datastore)
}

async fn dashboard(State(ds): State<Arc<Datastore>>, session: Session) -> Result<Html<String>, AddonError> {
    let record = ds
        .store()
        .resource(session.uuid())
        .await?
        .ok_or_else(|| AddonError::not_found("This datastore no longer exists."))?;
    let keys = tenants::count(ds.store(), session.uuid()).await?;
    let state = match record.state {
        addon_runtime::ResourceState::Provisioned => "ready",
        _ => "being created",
    };
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Acme Datastore</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;color:#1d2330}}\
         dd{{margin:0 0 .6rem}}dt{{font-weight:600}}</style></head><body><h1>Acme Datastore</h1><dl>\
         <dt>Resource</dt><dd><code>{uuid}</code></dd><dt>Plan</dt><dd>{plan}</dd><dt>State</dt><dd>{state}</dd>\
         <dt>Keys stored</dt><dd>{keys}</dd></dl><p>Your app reaches its data at <code>ACME_DATASTORE_URL</code>.</p>\
         </body></html>",
        uuid = record.uuid,
        plan = record.plan,
    )))
}
