//! Runs Acme Datastore. With no configuration it serves on http://127.0.0.1:5100 with the secrets
//! of its build's `addon-manifest.json` and a registry in `acme-datastore.db`. Asynchronous
//! provisioning needs Heroku's side: `HEROKU_OAUTH_CLIENT_SECRET` (and, for tests,
//! `HEROKU_API_URL` and `HEROKU_OAUTH_URL` pointing at a fake).

use std::sync::Arc;

use acme_datastore::Datastore;
use addon_runtime::Runtime;

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    // The registry first: the datastore keeps its tenants' tables in it.
    let runtime = Runtime::<Datastore>::from_env().await?;
    let datastore = Arc::new(Datastore::open(runtime.public_url(), runtime.store().clone()).await?);
    runtime.serve(datastore.clone(), acme_datastore::routes(datastore)).await
}
