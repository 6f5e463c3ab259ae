//! The job runner: finishes what a 202 promised, in the background, durably.
//!
//! Each instance runs one loop that claims due jobs from the registry (exactly one instance
//! holds a job at a time), runs them, and on failure schedules a retry with exponential backoff
//! and jitter, until the job's deadline (Heroku's twelve hours) passes; then the job is failed
//! visibly: logged, and the resource marked `failed`. A job whose instance died is claimed again
//! when its lease runs out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::leases::POLL;
use super::Core;
use crate::base::answer::AddonError;
use crate::base::clock::millis;
use crate::base::protocol::{Config, Marketplace};
use crate::services::platform::PlatformError;
use crate::services::store::{FollowUp, Job, JobKind, ResourceRecord, ResourceState, StoreError};
use crate::services::vendor;
use crate::services::vendor::addon::Addon;
use crate::services::vendor::jobs::{DeprovisionJob, PlanChangeJob, ProvisionJob};

/// Heroku removes an add-on whose asynchronous provisioning is not done within twelve hours.
pub(crate) const DEADLINE: Duration = Duration::from_secs(12 * 60 * 60);

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// A job of `kind` for the change being recorded, due now and failed for good after
/// [`DEADLINE`], by the core's clock.
pub(crate) fn follow_up<A>(core: &Core<A>, kind: JobKind) -> FollowUp {
    let now = core.clock.now_ms();
    FollowUp::new(kind, now, now.saturating_add(millis(DEADLINE)))
}

/// Why an attempt failed, how soon trying again makes sense, and whether it can ever succeed.
struct Failure {
    message: String,
    retry_after: Option<Duration>,
    /// Trying again cannot help (Heroku refused the request for what it is, such as a grant
    /// that was already used): the job fails now instead of retrying for twelve hours.
    permanent: bool,
}

impl Failure {
    fn transient(message: impl Into<String>) -> Self {
        Failure { message: message.into(), retry_after: None, permanent: false }
    }
}

impl From<PlatformError> for Failure {
    fn from(error: PlatformError) -> Self {
        Failure {
            permanent: !error.is_retryable(),
            retry_after: error.retry_after,
            message: error.to_string(),
        }
    }
}

/// The vendor's own failures are retried: its service may be down for a while, and its next
/// deploy may fix a bug.
impl From<AddonError> for Failure {
    fn from(error: AddonError) -> Self {
        Failure::transient(error.to_string())
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::transient(error.to_string())
    }
}

/// Starts this instance's runner. It stops when the app's last handle is dropped.
pub(crate) fn spawn<A: Addon>(core: &Arc<Core<A>>) {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        loop {
            let Some(core) = weak.upgrade() else { return };
            let poll = core.settings.job_poll;
            let ran = run_one(&core).await;
            drop(core);
            if !ran {
                tokio::time::sleep(poll).await;
            }
        }
    });
}

/// Claims and runs one due job; false if there was none (or the registry was unreachable).
pub(crate) async fn run_one<A: Addon>(core: &Arc<Core<A>>) -> bool {
    let now = core.clock.now_ms();
    let job = match core.store.claim_job(now, core.job_lease()).await {
        Ok(Some(job)) => job,
        Ok(None) => return false,
        Err(error) => {
            tracing::warn!(%error, "the job runner could not reach the registry");
            return false;
        }
    };
    let outcome = tokio::time::timeout(core.settings.job_timeout, execute(core, &job))
        .await
        .unwrap_or_else(|_| Err(Failure::transient("the job did not finish within ADDON_JOB_TIMEOUT")));
    let now = core.clock.now_ms();
    let recorded = match outcome {
        Ok(()) => {
            tracing::info!(kind = ?job.kind, uuid = %job.uuid, attempt = job.attempts, "job done");
            core.store.finish_job(&job.id, now).await
        }
        Err(failure) if failure.permanent => {
            tracing::error!(
                kind = ?job.kind, uuid = %job.uuid, attempts = job.attempts, error = %failure.message,
                "job failed for good: retrying cannot succeed"
            );
            let why = format!("not retried: {}", failure.message);
            core.store.fail_job(&job, &why, now).await
        }
        Err(failure) if now >= job.deadline => {
            tracing::error!(
                kind = ?job.kind, uuid = %job.uuid, attempts = job.attempts, error = %failure.message,
                "job failed for good: its deadline passed"
            );
            core.store.fail_job(&job, &failure.message, now).await
        }
        Err(failure) => {
            let wait = failure.retry_after.unwrap_or_else(|| backoff(job.attempts));
            tracing::warn!(
                kind = ?job.kind, uuid = %job.uuid, attempt = job.attempts, error = %failure.message,
                retry_in_ms = wait.as_millis() as u64, "job attempt failed; it will be retried"
            );
            let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
            core.store.retry_job(&job.id, run_at, &failure.message, now).await
        }
    };
    if let Err(error) = recorded {
        // The lease runs out and the job is claimed again: at worst it runs once more.
        tracing::warn!(%error, "could not record a job's outcome");
    }
    true
}

/// 1 s, 2 s, 4 s, ... up to five minutes, each stretched by up to half again at random so that
/// many failing jobs do not retry in step.
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let base = Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { f64::from(byte[0]) / 510.0 } else { 0.25 };
    base.mul_f64(1.0 + jitter)
}

async fn execute<A: Addon>(core: &Arc<Core<A>>, job: &Job) -> Result<(), Failure> {
    let heroku = core.platform.for_resource(&job.uuid);
    let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
    let record = core
        .store
        .resource(&job.uuid)
        .await?
        .ok_or_else(|| Failure::transient(format!("resource {} is not in the registry", job.uuid)))?;
    if record.state == ResourceState::Deprovisioned && job.kind != JobKind::Deprovision {
        // Claimed just before a deprovision cancelled it: there is nothing left to finish.
        return Ok(());
    }
    // Only Heroku's resources have a Platform API to tell: another marketplace's platform learns
    // the outcome from the registry (an OSB platform polls `last_operation`).
    match job.kind {
        JobKind::Grant => exchange_grant(core, &record).await,
        JobKind::Provision => {
            exchange_grant(core, &record).await?;
            let work = ProvisionJob {
                uuid: record.uuid.clone(),
                plan: record.plan.clone().into(),
                region: record.region.clone(),
                options: record.options.clone(),
                attempt,
                heroku: heroku.clone(),
                marketplace: record.marketplace,
            };
            let addon = core.addon.clone();
            let config = vendor::call(core.settings.job_timeout, "complete_provision", async move {
                addon.complete_provision(work).await
            })
            .await?;
            config.check(A::SPEC.config_vars).map_err(|problem| {
                Failure::transient(format!(
                    "`#[complete_provision]` returned a config Heroku must not receive: {problem}"
                ))
            })?;
            update_config(core, &record, &config).await?;
            // Recorded before the action: from the moment Heroku sees it, it may send a plan
            // change or an SSO for the resource, and the registry must already say it is ready.
            // Should the action fail, the job runs again, and the deadline marks it failed.
            let recorded =
                config.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())).collect();
            // DigitalOcean has no action that ends an asynchronous provision: the config is all.
            if core.store.finish_pending(&job.uuid, &recorded).await?
                && record.marketplace == Marketplace::Heroku
            {
                heroku.mark_provisioned().await?;
            } else {
                tracing::info!(uuid = %job.uuid, "the resource was deprovisioned while it was being provisioned");
            }
            Ok(())
        }
        JobKind::PlanChange => {
            let work = PlanChangeJob {
                uuid: record.uuid.clone(),
                plan: record.plan.clone().into(),
                previous_plan: job.payload["previous_plan"].as_str().unwrap_or_default().into(),
                attempt,
                heroku: heroku.clone(),
                marketplace: record.marketplace,
            };
            let addon = core.addon.clone();
            let config = vendor::call(core.settings.job_timeout, "complete_plan_change", async move {
                addon.complete_plan_change(work).await
            })
            .await?;
            if !config.is_empty() {
                config.check(A::SPEC.config_vars).map_err(|problem| {
                    Failure::transient(format!(
                        "`#[complete_plan_change]` returned a config Heroku must not receive: {problem}"
                    ))
                })?;
                update_config(core, &record, &config).await?;
                let config =
                    config.iter().map(|(var, value)| (var.name().to_owned(), value.to_owned())).collect();
                record_config(core, &job.uuid, &config).await?;
            }
            Ok(())
        }
        JobKind::Deprovision => {
            let work = DeprovisionJob {
                uuid: record.uuid.clone(),
                plan: record.plan.clone().into(),
                attempt,
                heroku: heroku.clone(),
                marketplace: record.marketplace,
            };
            let addon = core.addon.clone();
            vendor::call(core.settings.job_timeout, "complete_deprovision", async move {
                addon.complete_deprovision(work).await
            })
            .await?;
            if record.marketplace == Marketplace::Heroku {
                heroku.mark_deprovisioned().await?;
            }
            Ok(())
        }
    }
}

/// Exchanges the resource's grant with the marketplace that sent it.
async fn exchange_grant<A: Addon>(core: &Arc<Core<A>>, record: &ResourceRecord) -> Result<(), Failure> {
    match record.marketplace {
        Marketplace::DigitalOcean => core.platform.exchange_digitalocean_grant(&record.uuid).await?,
        _ => core.platform.exchange_grant(&record.uuid).await?,
    }
    Ok(())
}

/// Sets a job's config through the API of the marketplace that sold the resource.
async fn update_config<A: Addon>(
    core: &Arc<Core<A>>,
    record: &ResourceRecord,
    config: &Config,
) -> Result<(), Failure> {
    match record.marketplace {
        Marketplace::DigitalOcean => core.platform.digitalocean(&record.uuid).update_config(config).await?,
        Marketplace::Heroku => core.platform.for_resource(&record.uuid).update_config(config).await?,
        // An Open Service Broker platform reads credentials at bind time, from the registry.
        _ => {}
    }
    Ok(())
}

/// Adds a background plan change's config to the registry's record, waiting (as a request
/// would) for an operation that holds the resource to end.
async fn record_config<A: Addon>(
    core: &Arc<Core<A>>,
    uuid: &str,
    config: &BTreeMap<String, String>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + core.patience();
    while !core.store.merge_config(uuid, config, core.lease()).await? {
        let live = core.store.resource(uuid).await?.is_some_and(|r| r.state == ResourceState::Provisioned);
        if !live {
            // Deprovisioned meanwhile: there is no record left to update.
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Failure::transient(
                "another operation on the resource held it too long to record the new config",
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(1);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_millis(1500));
        let fourth = backoff(4);
        assert!(fourth >= Duration::from_secs(8) && fourth <= Duration::from_secs(12));
        assert!(backoff(40) <= MAX_BACKOFF.mul_f64(1.5));
    }
}
