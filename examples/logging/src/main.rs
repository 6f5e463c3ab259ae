//! Runs Acme Logs. With no configuration it serves on http://127.0.0.1:5000 with the secrets of
//! the `addon-manifest.json` its build wrote, and keeps its registry and log lines in
//! `acme-logs.db` in the working directory; see the README for the environment variables.

use acme_logs::Logs;
use addon_runtime::{Settings, Store};

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    let settings = Settings::from_env::<Logs>()?;
    let store = Store::open_with(&settings.database_url::<Logs>(), &settings).await?;
    acme_logs::app(settings, store).await?.serve().await
}
