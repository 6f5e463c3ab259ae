//! Runs Acme Logs. With no configuration it serves on http://127.0.0.1:5000 with the secrets of
//! the `addon-manifest.json` its build wrote; see the README for the environment variables.

use std::sync::Arc;

use acme_logs::Logs;
use addon_runtime::{App, Settings};

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    let settings = Settings::from_env::<Logs>()?;
    let logs = Arc::new(Logs::new(settings.public_url::<Logs>()));
    App::new(logs.clone(), settings)?
        .with_routes(acme_logs::routes(logs))
        .serve()
        .await
}
