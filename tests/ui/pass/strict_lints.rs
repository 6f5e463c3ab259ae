//! The expansion is clean under strict lints: a vendor who denies warnings, pedantic clippy lints
//! and missing docs gets no complaint about code they did not write. Trybuild compiles this file
//! with rustc's lints; it is also the `lints` test target, so `cargo clippy --all-targets` runs
//! clippy's over it.
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    missing_copy_implementations,
    unreachable_pub,
    unused_qualifications,
    unused_results,
    unused_import_braces,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    rust_2018_idioms,
    unsafe_code,
    clippy::all,
    clippy::pedantic
)]

use addon_runtime::prelude::*;

/// An add-on that uses every key and every handler kind.
#[derive(Clone, Copy, Debug)]
pub struct Strict {
    host: &'static str,
}

#[heroku_addon(
    id = "acme-strict",
    name = "Acme Strict",
    config_vars = ["ACME_STRICT_URL", "ACME_STRICT_TOKEN"], plans = ["basic", "pro"],
    config_vars_prefix = "ACME_STRICT",
    regions = ["us", "eu"],
    requires = ["syslog_drain", "log_input"],
    production = "https://strict.acme.example",
    base_path = "/heroku/resources",
    sso_path = "/sso/login",
    port = 5050,
    manifest = "../target/addon-tests-strict-lints-manifest.json",
)]
impl Strict {
    #[provision]
    async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
        std::future::ready(()).await;
        Ok(Provisioned::later(format!("{} is setting up {}", self.host, request.uuid)))
    }

    #[plan_change]
    async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
        std::future::ready(()).await;
        Ok(PlanChanged::new().with_message(format!("{} is now on {}", self.host, request.plan)))
    }

    #[deprovision]
    async fn deprovision(&self, request: DeprovisionRequest) -> Result<(), AddonError> {
        std::future::ready(()).await;
        if request.uuid.is_empty() || self.host.is_empty() {
            return Err(AddonError::new("no such resource"));
        }
        Ok(())
    }

    #[sso]
    async fn sso(&self, login: SsoLogin) -> Result<SsoRedirect, AddonError> {
        std::future::ready(()).await;
        Ok(SsoRedirect::to(format!("https://{}/dashboard/{}", self.host, login.uuid)))
    }

    #[complete_provision]
    async fn complete_provision(&self, job: ProvisionJob) -> Result<Config, AddonError> {
        std::future::ready(()).await;
        Ok(Config::new().set(Self::ACME_STRICT_TOKEN, format!("{}-{}", self.host, job.uuid)))
    }

    #[complete_plan_change]
    async fn complete_plan_change(&self, job: PlanChangeJob) -> Result<Config, AddonError> {
        std::future::ready(()).await;
        Ok(Config::new().set(Self::ACME_STRICT_URL, format!("https://{}/{}", self.host, job.uuid)))
    }

    #[complete_deprovision]
    async fn complete_deprovision(&self, job: DeprovisionJob) -> Result<(), AddonError> {
        std::future::ready(()).await;
        if job.uuid.is_empty() || self.host.is_empty() {
            return Err(AddonError::new("no such resource"));
        }
        Ok(())
    }
}

fn main() {
    let spec = <Strict as Addon>::SPEC;
    assert_eq!(spec.port, 5050);
    assert!(spec.problems().is_empty());
    assert_eq!(Strict::ACME_STRICT_TOKEN.name(), "ACME_STRICT_TOKEN");
    assert_eq!(Strict { host: "strict.acme.example" }.host, "strict.acme.example");
}
