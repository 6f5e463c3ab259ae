//! Runs Pingly. With no configuration it serves on http://127.0.0.1:5200 with the secrets of its
//! build's `addon-manifest.json` and a registry (with Pingly's own tables) in `pingly.db`.
//! `PINGLY_PROBE_INTERVAL_MS` and `PINGLY_PROBE_TIMEOUT_MS` set how monitors are checked.

use std::sync::Arc;

use addon_runtime::Runtime;
use pingly::{Pingly, Probing};

#[tokio::main]
async fn main() -> Result<(), addon_runtime::Error> {
    // The registry first: Pingly's tables are migrated on its database before the add-on exists.
    let runtime = Runtime::<Pingly>::from_env().await?;
    let probing = Probing::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?;
    let pingly = Pingly::open(runtime.store().clone(), runtime.public_url()).await?.with_probing(probing);
    let pingly = Arc::new(pingly);
    let _prober = pingly::spawn_prober(&pingly);
    runtime.serve(pingly.clone(), pingly::routes(pingly)).await
}
