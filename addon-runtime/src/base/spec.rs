//! The add-on's declaration as constants, as `#[heroku_addon(...)]` wrote it.

/// The manifest of an add-on, as constants: what `#[heroku_addon(...)]` declares.
///
/// It is [`addon_manifest::Declaration`], the one model of a declaration the macro, the runtime
/// and the manifest rules share: build it with [`AddonSpec::new`] (which holds the defaults:
/// region `us`, paths `/heroku/resources` and `/sso/login`, port 5000) and its `const fn`
/// setters. Secrets are not part of it: they come from the environment or the generated
/// manifest file.
pub type AddonSpec = addon_manifest::Declaration<'static>;
