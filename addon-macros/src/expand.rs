//! Code generation. On success: the vendor's impl (markers stripped), one associated constant
//! per config var, `impl Addon`, and the manifest file's build tracking. On error: the same impl,
//! every error, and a stub `impl Addon` so that one mistake does not cascade into many.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ItemImpl;

use crate::args::Args;
use crate::check::{self, Spec};
use crate::diagnostics::Errors;
use crate::handlers::{self, Handler};
use crate::manifest_file;
use crate::symbol::Kind;

pub(crate) fn heroku_addon(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[heroku_addon]` goes on an `impl` block of your add-on's type: `#[heroku_addon(...)] impl MyAddon { ... }`",
            )
            .to_compile_error();
            return quote! { #error #item };
        }
    };
    let mut errors = Errors::default();
    if let Some((_, trait_path, _)) = &item.trait_ {
        // Nothing else can be judged on a trait impl; say only this.
        errors.push_spanned(
            trait_path,
            "`#[heroku_addon]` goes on an inherent impl (`impl MyAddon`), not a trait impl",
        );
        let errors = errors.to_compile_errors();
        return quote! { #item #errors };
    }
    let args = Args::parse(args, &mut errors);
    let handlers = handlers::collect(&mut item, &mut errors);
    let spec = check::check(&args, &mut errors);

    let manifest_path = spec.as_ref().and_then(manifest_file::path);
    let mut tracking = TokenStream::new();
    if let (Some(spec), Some(path), true) = (&spec, &manifest_path, errors.is_empty()) {
        match manifest_file::write(spec, path) {
            Ok(()) => tracking = track_manifest(path),
            Err(message) => errors.push(Span::call_site(), message),
        }
    }

    let consts = config_var_consts(&item, &args);
    let addon_impl = match (&spec, errors.is_empty()) {
        (Some(spec), true) => addon_impl(&item, spec, &handlers, manifest_path.as_deref()),
        _ => stub_impl(&item),
    };
    let compile_errors = errors.to_compile_errors();
    quote! {
        #item
        #consts
        #addon_impl
        #tracking
        #compile_errors
    }
}

/// A handler marker used outside a `#[heroku_addon]` impl: nothing strips it, so it expands on
/// its own, and says where it belongs.
pub(crate) fn misplaced_marker(name: &str, _args: TokenStream, item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        Span::call_site(),
        format!(
            "`#[{name}]` only works on a method inside a `#[heroku_addon(...)]` impl block; \
             add `#[heroku_addon(...)]` to the impl, or remove `#[{name}]`"
        ),
    )
    .to_compile_error();
    quote! { #error #item }
}

/// `pub const ACME_LOGS_URL: ConfigVar`, one per declared var that is a valid identifier, at the
/// literal's span so that "go to definition" lands on the declaration.
fn config_var_consts(item: &ItemImpl, args: &Args) -> TokenStream {
    let vars = args.config_vars.as_ref().map_or(&[][..], |l| &l.items);
    let consts = vars.iter().filter_map(|var| {
        let ident = syn::parse_str::<syn::Ident>(&var.value).ok()?;
        let ident = syn::Ident::new(&ident.to_string(), var.span);
        let name = &var.value;
        let doc = format!("The config var `{name}`, declared in `#[heroku_addon(config_vars = [...])]`.");
        Some(quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub const #ident: ::addon_runtime::__private::ConfigVar = ::addon_runtime::__private::ConfigVar::new(#name);
        })
    });
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    quote! {
        impl #impl_generics #self_ty #where_clause {
            #(#consts)*
        }
    }
}

fn addon_impl(
    item: &ItemImpl,
    spec: &Spec,
    handlers: &[Handler],
    manifest_path: Option<&std::path::Path>,
) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let spec = spec_const(spec, manifest_path);
    let methods = handlers.iter().map(handler_method);
    quote! {
        impl #impl_generics ::addon_runtime::__private::Addon for #self_ty #where_clause {
            const SPEC: ::addon_runtime::__private::AddonSpec = #spec;
            #(#methods)*
        }
    }
}

/// The `AddonSpec` constant, built with its `const fn` setters.
fn spec_const(spec: &Spec, manifest_path: Option<&std::path::Path>) -> TokenStream {
    let (id, name, production) = (&spec.id, &spec.name, &spec.production);
    let vars = spec.var_names();
    let regions = &spec.regions;
    let requires = spec.requires.iter().map(|r| {
        let variant = format_ident!("{}", r.variant_name());
        quote!(::addon_runtime::__private::Requirement::#variant)
    });
    let (base_path, sso_path, port) = (&spec.base_path, &spec.sso_path, spec.port);
    let prefix = spec.config_vars_prefix.as_ref().map(|p| quote!(.config_vars_prefix(#p)));
    let manifest = manifest_path.and_then(|p| p.to_str()).map(|p| quote!(.manifest_path(#p)));
    quote! {
        ::addon_runtime::__private::AddonSpec::new(#id, #name, #production)
            .config_vars(&[#(#vars),*])
            #prefix
            .regions(&[#(#regions),*])
            .requires(&[#(#requires),*])
            .paths(#base_path, #sso_path)
            .port(#port)
            #manifest
    }
}

/// The trait method that calls the vendor's. The argument goes through a trait at the vendor's
/// own argument type, and the generated return type spans the vendor's return type, so rustc
/// reports a mismatch on the vendor's tokens with the messages `__private` gives.
fn handler_method(handler: &Handler) -> TokenStream {
    let kind = handler.kind;
    let name = kind.name();
    let trait_method = format_ident!("{name}");
    let argument_ty = format_ident!("{}", kind.argument());
    let argument_trait = format_ident!("{}Argument", camel(name));
    let success = success_type(kind);
    let vendor_argument = &handler.argument;
    let (first, last) = first_and_last_span(&handler.output);
    let method = syn::Ident::new(&handler.method.to_string(), first);
    // `impl` at the first token and `Send` at the last: rustc's span for the opaque type then
    // covers the vendor's whole return type, even on stable.
    let impl_token = quote_spanned!(first=> impl);
    let send = quote_spanned!(last=> Send);
    let call = quote_spanned! {first=>
        ::addon_runtime::__private::#trait_method(<Self>::#method(self, argument))
    };
    quote! {
        fn #trait_method(
            &self,
            argument: ::addon_runtime::__private::#argument_ty,
        ) -> #impl_token ::core::future::Future<
            Output = ::core::result::Result<#success, ::addon_runtime::__private::AddonError>,
        > + ::core::marker::#send {
            let argument = <#vendor_argument as ::addon_runtime::__private::#argument_trait>::take(argument);
            #call
        }
    }
}

fn success_type(kind: Kind) -> TokenStream {
    match kind.trait_success() {
        "()" => quote!(()),
        name => {
            let success = format_ident!("{name}");
            quote!(::addon_runtime::__private::#success)
        }
    }
}

/// `plan_change` -> `PlanChange`.
fn camel(name: &str) -> String {
    name.split('_').map(|part| part[..1].to_uppercase() + &part[1..]).collect()
}

fn first_and_last_span(tokens: &impl ToTokens) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let first = iter.next().map_or_else(Span::call_site, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}

/// Stands in for the real impl after an error, so the vendor sees the error that matters and not
/// "`MyAddon` is not a Heroku add-on" wherever the type is served.
fn stub_impl(item: &ItemImpl) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let methods = Kind::ALL.iter().filter(|k| k.required()).map(|kind| {
        let method = format_ident!("{}", kind.name());
        let argument_ty = format_ident!("{}", kind.argument());
        let success = success_type(*kind);
        quote! {
            fn #method(
                &self,
                _: ::addon_runtime::__private::#argument_ty,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<#success, ::addon_runtime::__private::AddonError>,
            > + ::core::marker::Send {
                async { ::core::unreachable!("this add-on did not compile") }
            }
        }
    });
    quote! {
        impl #impl_generics ::addon_runtime::__private::Addon for #self_ty #where_clause {
            const SPEC: ::addon_runtime::__private::AddonSpec = ::addon_runtime::__private::AddonSpec::new("", "", "");
            #(#methods)*
        }
    }
}

/// Makes cargo rebuild the crate (and so rewrite the manifest) when the file is deleted or
/// edited, or when the secrets' environment variables change.
fn track_manifest(path: &std::path::Path) -> TokenStream {
    let Some(path) = path.to_str() else {
        return TokenStream::new();
    };
    let (password, salt) = (addon_manifest::PASSWORD_ENV, addon_manifest::SSO_SALT_ENV);
    quote! {
        const _: () = {
            const _: &[u8] = ::core::include_bytes!(#path);
            const _: bool = ::core::option_env!(#password).is_some();
            const _: bool = ::core::option_env!(#salt).is_some();
        };
    }
}
