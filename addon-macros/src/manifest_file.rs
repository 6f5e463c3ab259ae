//! Writes `addon-manifest.json` beside the vendor's `Cargo.toml` while the crate compiles.
//!
//! Secrets never come from source: they are taken from the environment (`ADDON_PASSWORD`,
//! `ADDON_SSO_SALT`) when set, else kept from the existing file, else generated. The file is
//! rewritten only when its content changes.

use std::path::{Path, PathBuf};

use addon_manifest::{random_secret, write_if_changed, Declaration, Manifest, PASSWORD_ENV, SSO_SALT_ENV};

use crate::args::Args;
use crate::symbol::Key;

/// Where the manifest goes: `manifest = "..."` relative to the crate, or `addon-manifest.json`.
/// `None` when not built by cargo (no `CARGO_MANIFEST_DIR`), in which case nothing is written.
pub(crate) fn path(args: &Args) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    Some(dir.join(args.str(Key::Manifest).map_or(addon_manifest::FILE_NAME, |m| &m.value)))
}

/// Writes the manifest, keeping or generating its secrets. An existing file that is not a
/// manifest is an error rather than something to overwrite: it may hold the only copy of
/// secrets already pushed to Heroku.
pub(crate) fn write(declaration: &Declaration<'_>, path: &Path) -> Result<(), String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(Manifest::from_json(&text).map_err(|e| {
            format!(
                "`{}` exists but is not a valid manifest ({e}); fix it, or delete it to generate a new one \
                 (with new secrets)",
                path.display()
            )
        })?),
        Err(_) => None,
    };
    let secret = |env: &str, kept: Option<&String>| {
        std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| kept.filter(|v| !v.is_empty()).cloned())
            .unwrap_or_else(random_secret)
    };
    let password = secret(PASSWORD_ENV, existing.as_ref().map(|m| &m.api.password));
    let sso_salt = secret(SSO_SALT_ENV, existing.as_ref().map(|m| &m.api.sso_salt));
    let mut manifest = declaration.manifest(&password, &sso_salt);
    // Keep the revision token `manifest:pull` adds, so pushing the file again stays possible.
    manifest.base = existing.and_then(|m| m.base);
    write_if_changed(path, &manifest.to_json())
        .map(drop)
        .map_err(|e| format!("could not write `{}`: {e}", path.display()))
}
