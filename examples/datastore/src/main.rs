//! Runs Acme Datastore. With no configuration it serves on http://127.0.0.1:5100 with the secrets
//! of its build's `addon-manifest.json` and a registry in `acme-datastore.db`. Asynchronous
//! provisioning needs Heroku's side: `HEROKU_OAUTH_CLIENT_SECRET` (and, for tests,
//! `HEROKU_API_URL` and `HEROKU_OAUTH_URL` pointing at a fake).

use std::sync::Arc;

use acme_datastore::Datastore;
use addon_runtime::{App, Settings, Store};

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    let settings = Settings::from_env::<Datastore>()?;
    let store = Store::open_with(&settings.database_url::<Datastore>(), &settings).await?;
    let datastore = Arc::new(Datastore::open(settings.public_url::<Datastore>(), store.clone()).await?);
    App::new(datastore.clone(), settings, store)?.with_routes(acme_datastore::routes(datastore)).serve().await
}
