//! The `#[heroku_addon]` attribute. Use it through `addon-runtime`, which re-exports it with
//! its documentation; this crate only holds the proc-macro entry points.
//!
//! The work happens in plain `proc_macro2` functions, one step per module:
//! `args` and `handlers` parse into a model, `check` applies the manifest rules shared
//! with the runtime, `manifest_file` writes `addon-manifest.json`, `expand` generates code.

mod args;
mod check;
mod diagnostics;
mod expand;
mod handlers;
mod manifest_file;
mod symbol;

use proc_macro::TokenStream;

/// Turns an `impl` block into a Heroku add-on. Documented on `addon_runtime::heroku_addon`.
#[proc_macro_attribute]
pub fn heroku_addon(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::heroku_addon(args.into(), item.into()).into()
}

/// Marks the provisioning method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn provision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("provision", args.into(), item.into()).into()
}

/// Marks the plan-change method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn plan_change(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("plan_change", args.into(), item.into()).into()
}

/// Marks the deprovisioning method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn deprovision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("deprovision", args.into(), item.into()).into()
}

/// Marks the SSO method inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn sso(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("sso", args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous provision inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_provision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("complete_provision", args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous plan change inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_plan_change(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("complete_plan_change", args.into(), item.into()).into()
}

/// Marks the method that finishes an asynchronous deprovision inside a `#[heroku_addon]` impl block.
#[proc_macro_attribute]
pub fn complete_deprovision(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_marker("complete_deprovision", args.into(), item.into()).into()
}
