//! The code `#[heroku_addon]` generates names only `::core`, `::std` and
//! `::addon_runtime::__private` paths, so it compiles without the prelude and beside local items
//! that shadow `Result`, `Ok`, `Send`, `Future` or `core`.
//!
//! Each add-on writes its manifest under `target/` so that this test leaves no file in the crate.

mod hygienic {
    #![no_implicit_prelude]

    use ::addon_runtime::prelude::*;
    use ::std::format;
    use ::std::result::Result::{self, Err, Ok};
    use ::std::string::String;

    pub struct Addon {
        pub host: String,
    }

    #[heroku_addon(
        id = "acme-hygienic",
        name = "Acme Hygienic",
        config_vars = ["ACME_HYGIENIC_URL"],
        plans = ["basic", "gold"],
        regions = ["us", "eu"],
        requires = ["log_input"],
        production = "https://hygienic.acme.example",
        manifest = "../target/addon-tests-hygienic-manifest.json",
    )]
    impl Addon {
        #[provision]
        async fn provision(&self, request: ProvisionRequest) -> Result<Provisioned, AddonError> {
            let url = format!("https://{}/{}", self.host, request.uuid);
            Ok(Provisioned::new(Config::new().set(Self::ACME_HYGIENIC_URL, url)))
        }

        #[plan_change]
        async fn plan_change(&self, request: PlanChangeRequest) -> Result<PlanChanged, AddonError> {
            if request.plan == "gold" {
                return Err(AddonError::new("no `gold` plan"));
            }
            Ok(PlanChanged::new())
        }

        #[deprovision]
        async fn deprovision(&self, _request: DeprovisionRequest) -> Result<(), AddonError> {
            Ok(())
        }

        #[sso]
        async fn sso(&self, _login: SsoLogin) -> Result<SsoRedirect, AddonError> {
            Ok(SsoRedirect::to("/dashboard"))
        }
    }
}

#[allow(dead_code, unused_imports, non_camel_case_types, non_snake_case)]
mod shadowed {
    use ::addon_runtime::prelude::*;

    // Local items named like everything generated code might reach for unqualified.
    pub enum Result<T, E> {
        Ok(T),
        Err(E),
    }
    pub use self::Result::{Err, Ok};
    pub enum Option<T> {
        Some(T),
        None,
    }
    pub use self::Option::{None, Some};
    pub trait Send {}
    pub trait Sync {}
    pub trait Future {}
    pub trait Into {}
    pub mod core {}
    pub mod addon_runtime {}
    pub struct Box;
    pub struct String;
    pub struct Vec;
    pub fn format() {}
    pub mod std {}

    pub struct Addon;

    #[heroku_addon(
        id = "acme-shadowed",
        name = "Acme Shadowed",
        config_vars = ["ACME_SHADOWED_URL", "ACME_SHADOWED_TOKEN"],
        plans = ["basic"],
        production = "https://shadowed.acme.example",
        port = 5002,
        manifest = "../target/addon-tests-shadowed-manifest.json",
    )]
    impl Addon {
        #[provision]
        async fn provision(
            &self,
            _request: ProvisionRequest,
        ) -> ::core::result::Result<Provisioned, AddonError> {
            ::core::result::Result::Ok(Provisioned::new(Config::new()))
        }

        #[plan_change]
        async fn plan_change(
            &self,
            _request: PlanChangeRequest,
        ) -> ::core::result::Result<PlanChanged, AddonError> {
            ::core::result::Result::Ok(PlanChanged::new())
        }

        #[deprovision]
        async fn deprovision(&self, _request: DeprovisionRequest) -> ::core::result::Result<(), AddonError> {
            ::core::result::Result::Ok(())
        }
    }
}

use addon_runtime::{Addon, DeprovisionRequest, PlanChangeRequest, ProvisionRequest};

#[test]
fn an_addon_without_the_prelude_compiles_and_serves() {
    let spec = <hygienic::Addon as Addon>::SPEC;
    assert_eq!(spec.id, "acme-hygienic");
    assert_eq!(spec.config_vars, ["ACME_HYGIENIC_URL"]);
    assert_eq!(spec.regions, ["us", "eu"]);
    assert_eq!(spec.requires, [addon_runtime::Requirement::LogInput]);
    assert_eq!(hygienic::Addon::ACME_HYGIENIC_URL.name(), "ACME_HYGIENIC_URL");

    let addon = hygienic::Addon { host: "hygienic.acme.example".to_owned() };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        assert!(Addon::provision(&addon, ProvisionRequest::new("res-1", "basic")).await.is_ok());
        let refused = Addon::plan_change(&addon, PlanChangeRequest::new("res-1", "gold", "basic"))
            .await
            .expect_err("no gold plan");
        assert_eq!(refused.message(), "no `gold` plan");
        let login = addon_runtime::SsoLogin::new("res-1", "basic", addon_runtime::TokenKind::Resource);
        let redirect = Addon::sso(&addon, login).await.unwrap();
        assert_eq!(redirect.location(), "/dashboard");
    });
}

#[test]
fn an_addon_beside_shadowing_items_compiles_and_serves() {
    let spec = <shadowed::Addon as Addon>::SPEC;
    assert_eq!(spec.id, "acme-shadowed");
    assert_eq!(spec.config_vars, ["ACME_SHADOWED_URL", "ACME_SHADOWED_TOKEN"]);
    assert_eq!(spec.port, 5002);
    assert_eq!(shadowed::Addon::ACME_SHADOWED_TOKEN.name(), "ACME_SHADOWED_TOKEN");

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        assert!(Addon::deprovision(&shadowed::Addon, DeprovisionRequest::new("res-1", "basic"))
            .await
            .is_ok());
    });
}
