//! Code generation. On success: the vendor's impl (markers stripped), one associated constant
//! per config var and per plan, `impl Addon`, and the manifest file's build tracking. On error: the same impl,
//! every error, and a stub `impl Addon` so that one mistake does not cascade into many.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ItemImpl;

use crate::args::{Args, Value};
use crate::declaration::{self, Lists};
use crate::diagnostics::Errors;
use crate::exports::{self, Exports};
use crate::handlers::{self, Handler};
use crate::manifest_file;
use crate::symbol::{Key, Kind};

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
    let exports = Exports::new(runtime_root(&args, &mut errors).as_ref());
    let handlers = handlers::collect(&mut item, &mut errors);
    let lists = Lists::of(&args, &mut errors);
    let declaration = lists.as_ref().and_then(|lists| declaration::declaration(&args, lists));
    let valid = declaration.as_ref().is_some_and(|d| declaration::check(d, &args, &mut errors));

    let consts = associated_consts(&item, &args, &exports, &mut errors);
    let manifest_path = manifest_file::path(&args);
    let mut tracking = TokenStream::new();
    if let (Some(declaration), Some(path), true, true) =
        (&declaration, &manifest_path, valid, errors.is_empty())
    {
        match manifest_file::write(declaration, path) {
            Ok(()) => tracking = track_manifest(path),
            Err(message) => errors.push(Span::call_site(), message),
        }
    }

    let addon_impl = match (&lists, valid && errors.is_empty()) {
        (Some(lists), true) => {
            let spec = spec_const(&args, lists, manifest_path.as_deref(), &exports);
            addon_impl(&item, &spec, &handlers, &exports)
        }
        _ => stub_impl(&item, &exports),
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

/// `crate = "..."`: where the vendor's crate finds the runtime when it renamed the dependency.
fn runtime_root(args: &Args, errors: &mut Errors) -> Option<syn::Path> {
    let root = args.str(Key::Crate)?;
    match syn::LitStr::new(&root.value, root.span).parse::<syn::Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            let message = format!(
                "`crate` takes the path the runtime is known by, such as `crate = \"renamed_runtime\"`; `{}` is not a path",
                root.value
            );
            errors.push(root.span, message);
            None
        }
    }
}

/// A handler marker used outside a `#[heroku_addon]` impl: nothing strips it, so it expands on
/// its own, and says where it belongs.
pub(crate) fn misplaced_marker(kind: Kind, _args: TokenStream, item: TokenStream) -> TokenStream {
    let name = kind.name();
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

/// `pub const ACME_LOGS_URL: ConfigVar`, one per declared var that is a valid identifier, and
/// `pub const HOBBY: Plan`, one per plan slug (upper case, `-` as `_`), each at its literal's span
/// so that "go to definition" lands on the declaration.
fn associated_consts(item: &ItemImpl, args: &Args, exports: &Exports, errors: &mut Errors) -> TokenStream {
    let vars = args.list(Key::ConfigVars).map_or(&[][..], |l| &l.items);
    let config_var = exports.config_var();
    let var_consts = vars.iter().filter_map(|var| {
        let ident = syn::parse_str::<syn::Ident>(&var.value).ok()?;
        let ident = syn::Ident::new(&ident.to_string(), var.span);
        let name = &var.value;
        let doc = format!("The config var `{name}`, declared in `#[heroku_addon(config_vars = [...])]`.");
        Some(quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub const #ident: #config_var = #config_var::new(#name);
        })
    });
    let var_consts: Vec<_> = var_consts.collect();
    let plans = args.list(Key::Plans).map_or(&[][..], |l| &l.items);
    let plan = exports.plan();
    let mut plan_consts = Vec::new();
    let mut named: Vec<String> = Vec::new();
    for slug in plans {
        if addon_manifest::rules::check_plan_slug(&slug.value).is_err() {
            continue; // reported by the declaration's rules
        }
        let name = slug.value.to_ascii_uppercase().replace('-', "_");
        if vars.iter().any(|var| var.value == name) {
            let message = format!(
                "the plan `{}` would make the constant `{name}`, which the config var `{name}` already names; rename the plan",
                slug.value
            );
            errors.push(slug.span, message);
            continue;
        }
        if named.contains(&name) {
            continue; // a duplicate, reported by the declaration's rules
        }
        named.push(name.clone());
        let ident = syn::Ident::new(&name, slug.span);
        let value = &slug.value;
        let doc = format!("The plan `{value}`, declared in `#[heroku_addon(plans = [...])]`.");
        plan_consts.push(quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub const #ident: #plan = #plan::new(#value);
        });
    }
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    quote! {
        impl #impl_generics #self_ty #where_clause {
            #(#var_consts)*
            #(#plan_consts)*
        }
    }
}

fn addon_impl(item: &ItemImpl, spec: &TokenStream, handlers: &[Handler], exports: &Exports) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let (addon, addon_spec) = (exports.addon(), exports.addon_spec());
    let methods = handlers.iter().map(|handler| handler_method(handler, exports));
    quote! {
        #[automatically_derived]
        impl #impl_generics #addon for #self_ty #where_clause {
            const SPEC: #addon_spec = #spec;
            #(#methods)*
        }
    }
}

/// The `SPEC` constant: `AddonSpec::new` with the required keys, then one setter per other key
/// given, named as the key (the attribute's keys are the declaration's fields), so the defaults
/// stay those of `Declaration::new`.
fn spec_const(
    args: &Args,
    lists: &Lists<'_>,
    manifest_path: Option<&std::path::Path>,
    exports: &Exports,
) -> TokenStream {
    let required = |key| args.str(key).map(|s| s.value.as_str()).unwrap_or_default();
    let (id, name, production) = (required(Key::Id), required(Key::Name), required(Key::Production));
    let requirement = exports.requirement();
    let setters = args.entries().filter_map(|(key, value)| {
        let value = match (key, value) {
            (Key::Id | Key::Name | Key::Production | Key::Manifest | Key::Crate, _) => return None,
            (Key::Requires, _) => {
                let variants = lists.requires.iter().map(|r| format_ident!("{}", r.variant_name()));
                quote!(&[#(#requirement::#variants),*])
            }
            (_, Value::Str(s)) => s.value.to_token_stream(),
            (_, Value::List(list)) => {
                let items = list.items.iter().map(|item| &item.value);
                quote!(&[#(#items),*])
            }
            (_, Value::Port(port, _)) => port.to_token_stream(),
            (_, Value::Group(settings)) => digitalocean_listing(settings, exports),
            (_, Value::Osb(osb)) => osb_service(osb, exports),
        };
        let setter = format_ident!("{}", key.name());
        Some(quote!(.#setter(#value)))
    });
    let manifest = manifest_path.and_then(|p| p.to_str()).map(|p| quote!(.manifest_path(#p)));
    let addon_spec = exports.addon_spec();
    quote! {
        #addon_spec::new(#id, #name, #production)
            #(#setters)*
            #manifest
    }
}

/// `DigitalOceanListing::new()` with a setter per setting given.
fn digitalocean_listing(settings: &crate::args::Settings, exports: &Exports) -> TokenStream {
    let listing = exports.digitalocean_listing();
    let setters = settings.entries.iter().map(|(name, value)| {
        let setter = format_ident!("{}", name);
        let value = &value.value;
        quote!(.#setter(#value))
    });
    quote!(#listing::new() #(#setters)*)
}

/// `OsbService::new(..)` with a setter per setting given, as `osb(...)` wrote it.
fn osb_service(osb: &crate::osb_args::OsbArgs, exports: &Exports) -> TokenStream {
    let service = exports.osb_service();
    let id = osb.service_id.as_ref().map(|s| s.value.as_str()).unwrap_or_default();
    let description = osb.description.as_ref().map(|d| {
        let d = &d.value;
        quote!(.description(#d))
    });
    let bindable = osb.bindable.map(|b| quote!(.bindable(#b)));
    let pairs = osb.plan_ids.iter().map(|(plan, id)| {
        let (plan, id) = (&plan.value, &id.value);
        quote!((#plan, #id))
    });
    quote!(#service::new(#id) #description #bindable .plan_ids(&[#(#pairs),*]))
}

/// The trait method that calls the vendor's. The argument goes through a trait at the vendor's
/// own argument type, and the generated return type spans the vendor's return type, so rustc
/// reports a mismatch on the vendor's tokens with the messages `__private` gives.
fn handler_method(handler: &Handler, exports: &Exports) -> TokenStream {
    let kind = handler.kind;
    let trait_method = format_ident!("{}", kind.name());
    let (input, argument_trait) = (exports.input(kind), exports.argument_trait(kind));
    let vendor_argument = &handler.argument;
    let (first, last) = first_and_last_span(&handler.output);
    // The call at the vendor's return type too: a wrong one is "inferred here", on their tokens.
    let future = exports.future(kind, first);
    let method = syn::Ident::new(&handler.method.to_string(), first);
    // `impl` at the first token and `Send` at the last: rustc's span for the opaque type then
    // covers the vendor's whole return type, even on stable.
    let impl_token = quote_spanned!(first=> impl);
    let return_type = returned_future(kind, exports, &impl_token, exports::send(last));
    let call = quote_spanned! {first=>
        #future::new(<Self>::#method(self, argument))
    };
    quote! {
        fn #trait_method(&self, argument: #input) -> #return_type {
            let argument = <#vendor_argument as #argument_trait>::take(argument);
            #call
        }
    }
}

/// `impl Future<Output = Result<{Kind}Success, AddonError>> + Send`, the `Addon` method's type.
fn returned_future(
    kind: Kind,
    exports: &Exports,
    impl_token: &TokenStream,
    send: TokenStream,
) -> TokenStream {
    let (future, result) = (exports::future(), exports::result());
    let (success, error) = (exports.success(kind), exports.addon_error());
    quote!(#impl_token #future<Output = #result<#success, #error>> + #send)
}

fn first_and_last_span(tokens: &impl ToTokens) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let first = iter.next().map_or_else(Span::call_site, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}

/// Stands in for the real impl after an error, so the vendor sees the error that matters and not
/// "`MyAddon` is not a Heroku add-on" wherever the type is served.
fn stub_impl(item: &ItemImpl, exports: &Exports) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let (addon, addon_spec) = (exports.addon(), exports.addon_spec());
    let methods = Kind::ALL.into_iter().filter(|k| k.required()).map(|kind| {
        let method = format_ident!("{}", kind.name());
        let input = exports.input(kind);
        let return_type = returned_future(kind, exports, &quote!(impl), exports::send(Span::call_site()));
        quote! {
            fn #method(&self, _: #input) -> #return_type {
                async { ::core::unreachable!("this add-on did not compile") }
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #addon for #self_ty #where_clause {
            const SPEC: #addon_spec = #addon_spec::new("", "", "");
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
