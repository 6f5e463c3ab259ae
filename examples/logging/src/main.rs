//! Runs Acme Logs. With no configuration it serves on http://127.0.0.1:5000 with the secrets of
//! the `addon-manifest.json` its build wrote, and keeps its registry in `acme-logs.db` in the
//! working directory; see the README for the environment variables.

use std::sync::Arc;

use acme_logs::Logs;
use addon_runtime::{App, Settings, Store};

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    let settings = Settings::from_env::<Logs>()?;
    let store = Store::open(&settings.database_url::<Logs>()).await?;
    let logs = Arc::new(Logs::new(settings.public_url::<Logs>(), store.clone()));
    App::new(logs.clone(), settings, store)?.with_routes(acme_logs::routes(logs)).serve().await
}
