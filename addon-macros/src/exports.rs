//! Every path the expansion names outside the vendor's code, written once (as Rocket's
//! `exports.rs`). Runtime items are reached through `<root>::__private` only, where the root is
//! `::addon_runtime`, or the path given as `#[heroku_addon(crate = "...")]` when the vendor
//! renamed the dependency. Standard items are named by `::core` paths, so that local items
//! called `Result` or `Send` do not capture them.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::symbol::Kind;

pub(crate) struct Exports {
    private: TokenStream,
}

/// One method per runtime item, `name => Item` giving `<root>::__private::Item`.
macro_rules! private_items {
    ($($(#[$doc:meta])* $method:ident => $item:ident,)*) => {
        impl Exports {
            $(
                $(#[$doc])*
                pub(crate) fn $method(&self) -> TokenStream {
                    let private = &self.private;
                    quote!(#private::$item)
                }
            )*
        }
    };
}

private_items! {
    /// The trait the expansion implements.
    addon => Addon,
    /// The type of `Addon::SPEC`.
    addon_spec => AddonSpec,
    /// `digitalocean(...)`'s value in `SPEC`.
    digitalocean_listing => DigitalOceanListing,
    addon_error => AddonError,
    /// The type of the generated config var constants.
    config_var => ConfigVar,
    /// The type of the generated plan constants.
    plan => Plan,
    requirement => Requirement,
    /// The type `osb(...)` builds.
    osb_service => OsbService,
}

impl Exports {
    /// The runtime at `root` (`None`: `::addon_runtime`).
    pub(crate) fn new(root: Option<&syn::Path>) -> Self {
        let root = root.map_or_else(|| quote!(::addon_runtime), |path| quote!(#path));
        Exports { private: quote!(#root::__private) }
    }

    /// `{Kind}Input`: the type the `Addon` method of this kind takes.
    pub(crate) fn input(&self, kind: Kind) -> TokenStream {
        self.per_kind(kind, "Input")
    }

    /// `{Kind}Success`: what the `Addon` method of this kind returns on success.
    pub(crate) fn success(&self, kind: Kind) -> TokenStream {
        self.per_kind(kind, "Success")
    }

    /// `{Kind}Argument`: the trait the vendor's argument type must implement.
    pub(crate) fn argument_trait(&self, kind: Kind) -> TokenStream {
        self.per_kind(kind, "Argument")
    }

    /// `{Kind}Future`: wraps the vendor's future, converting its result (and checking its type).
    /// Every token at `span`, the vendor's return type, where rustc then reports a wrong one.
    pub(crate) fn future(&self, kind: Kind, span: Span) -> TokenStream {
        respan(self.per_kind(kind, "Future"), span)
    }

    fn per_kind(&self, kind: Kind, suffix: &str) -> TokenStream {
        let private = &self.private;
        let item = format_ident!("{}{suffix}", kind.camel());
        quote!(#private::#item)
    }
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}

pub(crate) fn result() -> TokenStream {
    quote!(::core::result::Result)
}

pub(crate) fn future() -> TokenStream {
    quote!(::core::future::Future)
}

/// `Send`, at `span`: the last token of the vendor's return type (see `expand::handler_method`).
pub(crate) fn send(span: Span) -> TokenStream {
    let send = quote_spanned!(span=> Send);
    quote!(::core::marker::#send)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The expansion of a valid add-on with `crate = "..."` given or not.
    fn expand(root: Option<&str>) -> String {
        let manifest = std::env::temp_dir().join(format!("addon-macros-exports-{}.json", std::process::id()));
        let manifest = manifest.to_str().unwrap();
        let root = root.map(|root| quote!(crate = #root,));
        let args = quote! {
            #root
            id = "acme", name = "Acme", config_vars = ["ACME_URL"], plans = ["hobby"], requires = ["log_input"],
            production = "https://acme.example", manifest = #manifest,
        };
        let item = quote! {
            impl Acme {
                #[provision]
                async fn provision(&self, r: ProvisionRequest) -> Result<Provisioned, AddonError> { Ok(Provisioned::new(Config::new())) }
                #[plan_change]
                async fn plan_change(&self, r: PlanChangeRequest) -> Result<PlanChanged, AddonError> { Ok(PlanChanged::new()) }
                #[deprovision]
                async fn deprovision(&self, r: DeprovisionRequest) -> Result<(), AddonError> { Ok(()) }
            }
        };
        let expanded = crate::expand::heroku_addon(args, item).to_string();
        let _ = std::fs::remove_file(manifest);
        assert!(!expanded.contains("compile_error"), "{expanded}");
        expanded
    }

    #[test]
    fn every_runtime_path_goes_through_the_root() {
        let default = expand(None);
        assert!(default.contains(":: addon_runtime :: __private :: Addon for Acme"), "{default}");
        let renamed = expand(Some("renamed_runtime"));
        assert!(!renamed.contains("addon_runtime"), "{renamed}");
        // Every use of `__private` hangs off the given root.
        let uses = renamed.matches("__private").count();
        assert!(uses > 10, "{renamed}");
        assert_eq!(renamed.matches("renamed_runtime :: __private").count(), uses, "{renamed}");
    }
}
