use addon_runtime::prelude::*;

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    production = "https://logs.acme.example",
)]
impl Default for Logs {
    fn default() -> Self {
        Logs
    }
}

fn main() {}
