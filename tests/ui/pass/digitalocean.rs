use addon_runtime::prelude::*;
use addon_runtime::Addon;

struct Logs;

#[heroku_addon(
    id = "acme-logs",
    name = "Acme Logs",
    config_vars = ["ACME_LOGS_URL"], plans = ["basic", "pro"],
    production = "https://logs.acme.example",
    digitalocean,
)]
impl Logs {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn change_plan(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }

    #[notification]
    async fn heard(&self, notification: Notification) -> Result<(), std::io::Error> {
        let _ = notification.notice.name();
        Ok(())
    }
}

struct Shop;

#[heroku_addon(
    id = "acme-shop",
    name = "Acme Shop",
    config_vars = ["ACME_SHOP_URL"], plans = ["basic"],
    production = "https://shop.acme.example",
    digitalocean(base_path = "/do", slug = "acme_shop"),
)]
impl Shop {
    #[provision]
    async fn provision(&self, _request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        Ok(Provisioned::new(Config::new()))
    }

    #[plan_change]
    async fn change_plan(&self, _request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        Ok(PlanChanged::new())
    }

    #[deprovision]
    async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
        Ok(())
    }
}

fn main() {
    let listing = Logs::SPEC.digitalocean.expect("listed");
    assert_eq!((listing.base_path, listing.slug_or(Logs::SPEC.id)), ("/digitalocean", "acme-logs"));
    let listing = Shop::SPEC.digitalocean.expect("listed");
    assert_eq!((listing.base_path, listing.slug_or(Shop::SPEC.id)), ("/do", "acme_shop"));
}
