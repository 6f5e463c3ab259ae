//! Runs Acme Logs. With no configuration it serves on http://127.0.0.1:5000 with the secrets of
//! the `addon-manifest.json` its build wrote, and keeps its registry and log lines in
//! `acme-logs.db` in the working directory; see the README for the environment variables.

use acme_logs::Logs;
use addon_runtime::Runtime;

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    // The registry first: the log book's tables live in it, and the add-on is built around them.
    let runtime = Runtime::<Logs>::from_env().await?;
    acme_logs::app(runtime.settings().clone(), runtime.store().clone()).await?.serve().await
}
