use addon_runtime::prelude::*;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    production = "https://logs.acme.example",
)]
struct Logs;

fn main() {}
