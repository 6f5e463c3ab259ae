//! `addon-check`: plays Heroku against an add-on that is already running, whatever language it
//! is written in, and says what would go wrong at Heroku. The checks cover the manifest, Basic
//! auth, provisioning (v3, legacy, unknown fields, asynchronous with a fake Platform API),
//! idempotent re-delivery, plan changes, deprovisioning, SSO with every token kind and every way
//! a token can be wrong, hostile input, and answer times.
//!
//! The binary is a thin shell around [`run`]; tests call it directly.

mod checks;
mod context;
pub mod guard;
pub mod osb;
mod report;

pub use context::{Context, DigitalOceanOptions, Options};
pub use report::{Outcome, Report, Status};

/// Runs every check against the add-on the options describe, handing each outcome to `seen` as
/// it is known.
pub async fn run(options: Options, seen: impl FnMut(&Outcome)) -> Report {
    run_with_progress(options, |_| {}, seen).await
}

/// [`run`], also telling `starting` the name of each check (`auth.missing.provision`, ...) as it
/// starts; the manifest's checks, which take no time, are announced together as `manifest`.
pub async fn run_with_progress(
    options: Options,
    starting: impl FnMut(&str) + Send + 'static,
    mut seen: impl FnMut(&Outcome),
) -> Report {
    let mut starting: context::Progress = Box::new(starting);
    let mut report = Report::default();
    let mut record = |outcome: Outcome| {
        seen(&outcome);
        report.outcomes.push(outcome);
    };
    starting("manifest");
    let manifest_outcomes = checks::manifest::check(&options).await;
    let usable = manifest_outcomes.iter().all(|o| o.check != "manifest.parse" || o.status == Status::Pass);
    let allowed =
        manifest_outcomes.iter().all(|o| o.check != "manifest.test_urls" || o.status != Status::Fail);
    for outcome in manifest_outcomes {
        record(outcome);
    }
    if !usable || !allowed {
        return report;
    }
    let given = options.plans.clone();
    let digitalocean = options.digitalocean.clone();
    let mut context = match Context::new(options, starting).await {
        Ok(context) => context,
        Err(message) => {
            record(Outcome::fail("checker.setup", message, "fix the options and run again"));
            return report;
        }
    };
    if let Some(digitalocean) = &digitalocean {
        for outcome in checks::digitalocean::check(&context, digitalocean).await {
            record(outcome);
        }
        context.step("latency");
        record(context.latency_outcome());
        return report;
    }
    // Before anything provisions: which plans to provision with (asked of the add-on).
    let (plans, outcomes) = checks::plans::choose(&context, &given).await;
    context.plans = plans;
    for outcome in outcomes {
        record(outcome);
    }
    for outcome in checks::auth::check(&context).await {
        record(outcome);
    }
    for outcome in checks::lifecycle::check(&context).await {
        record(outcome);
    }
    for outcome in checks::input::check(&context).await {
        record(outcome);
    }
    context.step("latency");
    record(context.latency_outcome());
    report
}
