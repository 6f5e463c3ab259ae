//! The manifest: every rule of the shared rules crate, and test URLs that are safe to call.

use addon_manifest::Manifest;

use crate::{guard, Options, Outcome};

pub(crate) async fn check(options: &Options) -> Vec<Outcome> {
    let manifest = match Manifest::from_json(&options.manifest) {
        Ok(manifest) => manifest,
        Err(e) => {
            return vec![Outcome::fail(
                "manifest.parse",
                format!("not a manifest: {e}"),
                "generate one with `heroku addons:admin:manifest:generate` or build a #[heroku_addon] crate",
            )]
        }
    };
    let mut outcomes =
        vec![Outcome::pass("manifest.parse", format!("`{}` ({})", manifest.id, manifest.name))];
    let problems = manifest.problems();
    if problems.is_empty() {
        outcomes.push(Outcome::pass(
            "manifest.rules",
            "id, prefix, config vars, regions, requires, URLs, version, secrets",
        ));
    }
    for problem in problems {
        outcomes.push(Outcome::fail(
            "manifest.rules",
            format!("{}: {}", problem.field, problem.message),
            "fix the manifest field",
        ));
    }
    outcomes.push(test_urls(&manifest, options).await);
    outcomes
}

/// The checker sends real requests, some hostile, with the manifest's password: only to this
/// machine unless told otherwise (see [`crate::guard`]).
async fn test_urls(manifest: &Manifest, options: &Options) -> Outcome {
    let Some(test) = &manifest.api.test else {
        return Outcome::fail(
            "manifest.test_urls",
            "no `api.test` URLs",
            "add `api.test.base_url` and `sso_url`",
        );
    };
    let target = options.url.clone().unwrap_or_else(|| test.base_url.clone());
    let url = match guard::parse_target(&target) {
        Ok(url) => url,
        Err(message) => {
            return Outcome::fail("manifest.test_urls", message, "give a plain http:// URL of the add-on")
        }
    };
    if options.allow_remote {
        return Outcome::pass("manifest.test_urls", format!("checking {target} (--allow-remote)"));
    }
    match guard::loopback_addresses(&url).await {
        Ok(_) => Outcome::pass("manifest.test_urls", format!("checking {target}")),
        Err(message) => Outcome::fail(
            "manifest.test_urls",
            message,
            "run the add-on locally, or pass --allow-remote to check a remote one on purpose",
        ),
    }
}
