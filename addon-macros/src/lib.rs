//! The `#[heroku_addon]` attribute. Use it through `addon-runtime`, which re-exports it with
//! its documentation; this crate only holds the proc-macro entry points.
//!
//! The work happens in plain `proc_macro2` functions, one step per module:
//! `args` and `handlers` parse, `declaration` builds the shared `addon_manifest::Declaration`
//! and applies the manifest rules, `manifest_file` writes `addon-manifest.json`, `expand`
//! generates code, naming the runtime only through `exports`.

mod args;
mod declaration;
mod diagnostics;
mod expand;
mod exports;
mod handlers;
mod manifest_file;
mod osb_args;
mod symbol;

use proc_macro::TokenStream;

use crate::symbol::Kind;

/// Turns an `impl` block into a Heroku add-on. Documented on `addon_runtime::heroku_addon`.
#[proc_macro_attribute]
pub fn heroku_addon(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::heroku_addon(args.into(), item.into()).into()
}

/// Marks the provisioning method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn provision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Provision, args.into(), item.into()).into()
}

/// Marks the plan-change method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn plan_change(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::PlanChange, args.into(), item.into()).into()
}

/// Marks the deprovisioning method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn deprovision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Deprovision, args.into(), item.into()).into()
}

/// Marks the SSO method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn sso(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Sso, args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous provision inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_provision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::CompleteProvision, args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous plan change inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_plan_change(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::CompletePlanChange, args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous deprovision inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_deprovision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::CompleteDeprovision, args.into(), item.into()).into()
}

/// Marks the method that hears a marketplace's notices (DigitalOcean's suspension,
/// reactivation, failed deprovision, update) inside a `#[heroku_addon]` impl block. Optional.
#[proc_macro_attribute]
pub fn notification(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Notification, args.into(), item.into()).into()
}

/// Marks the method that hands out an app's credentials when an Open Service Broker platform
/// binds it, inside a `#[heroku_addon]` impl block. Optional.
#[proc_macro_attribute]
pub fn bind(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Bind, args.into(), item.into()).into()
}

/// Marks the method that revokes what `#[bind]` handed out, inside a `#[heroku_addon]` impl
/// block. Optional.
#[proc_macro_attribute]
pub fn unbind(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker(Kind::Unbind, args.into(), item.into()).into()
}
