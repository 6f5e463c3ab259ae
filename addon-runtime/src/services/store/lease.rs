//! The resource's lease for the vendor's own code: the same `lease_until` a plan change or a
//! deprovision takes, so a vendor write holding it never runs beside them, on any instance.
//!
//! A vendor's work may take longer than any fixed lease, so a held lease is renewed in the
//! background while its guard lives; a process that dies stops renewing, and the lease expires
//! within [`LEASE`] for others to take. Renewal and release both require the registry to still
//! hold the `lease_until` this guard wrote, so a guard never extends or ends someone else's lease.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{ResourceRecord, ResourceState, Store, StoreError};
use crate::base::answer::AddonError;
use crate::base::clock::millis;

/// How long one renewal of a vendor's lease lasts: how soon another instance may take over from
/// a process that died holding it.
const LEASE: Duration = Duration::from_secs(10);
/// How often a held lease is renewed: well within [`LEASE`].
const RENEW: Duration = Duration::from_secs(3);
/// How often a waiting request looks again.
const POLL: Duration = Duration::from_millis(20);
/// How long [`Store::lease`] waits for a plan change or deprovision of the resource: longer than
/// the runtime's own wait for one (twice the default handler timeout and a margin).
const PATIENCE: Duration = Duration::from_secs(45);

/// The resource's lease, held by vendor code until dropped (or [`Lease::release`]d): while it
/// lives, no plan change or deprovision of the resource runs, on any instance sharing the
/// registry, and no other lease of it is granted. Take it around writes that must agree with the
/// resource's plan (a monitor added while a downgrade runs).
///
/// Do not take it inside the `#[plan_change]` or `#[deprovision]` methods: they already run
/// under it, and would wait for themselves.
#[must_use = "the lease is released when this guard is dropped"]
pub struct Lease {
    record: ResourceRecord,
    store: Store,
    held: Arc<Mutex<Held>>,
}

/// What the guard, its renewals and its release share.
struct Held {
    /// The `lease_until` this guard last wrote (unix milliseconds of the store's clock).
    until: i64,
    /// Released, or lost: nothing more to renew or release.
    ended: bool,
}

impl Store {
    /// Takes the lease of the live resource `uuid` (or vendor id), waiting (up to 45 seconds) for
    /// a plan change, a deprovision or another lease of it to end. 404 if the registry does not
    /// know it, 410 once it is deprovisioned, 409 if it is not live yet, 503 if the wait runs out.
    ///
    /// ```no_run
    /// # async fn add_monitor(store: &addon_runtime::Store, uuid: &str) -> Result<(), addon_runtime::AddonError> {
    /// let lease = store.lease(uuid).await?;
    /// // The plan cannot change until `lease` is dropped: check the limit, then write.
    /// let plan = &lease.resource().plan;
    /// # let _ = plan;
    /// lease.release().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn lease(&self, uuid: &str) -> Result<Lease, AddonError> {
        self.lease_waiting(uuid, PATIENCE).await
    }

    /// [`Store::lease`], waiting at most `patience` for the resource.
    pub async fn lease_waiting(&self, uuid: &str, patience: Duration) -> Result<Lease, AddonError> {
        let deadline = Instant::now() + patience;
        loop {
            let record = self.resource(uuid).await?.ok_or_else(|| AddonError::unknown_resource(uuid))?;
            match record.state {
                ResourceState::Deprovisioned => return Err(AddonError::gone(&record.uuid)),
                ResourceState::Pending | ResourceState::Failed => {
                    return Err(AddonError::resource_not_live(&record.uuid))
                }
                ResourceState::Provisioned => {
                    if let Some(until) = self.take_lease(&record.uuid).await? {
                        // Read again now that nothing else can change it.
                        let record = self
                            .resource(&record.uuid)
                            .await?
                            .ok_or_else(|| AddonError::unknown_resource(uuid))?;
                        return Ok(Lease::hold(self.clone(), record, until));
                    }
                }
                ResourceState::Provisioning => {}
            }
            if Instant::now() >= deadline {
                return Err(AddonError::in_progress());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The lease of a live resource if it is free (or expired): the `lease_until` written.
    async fn take_lease(&self, uuid: &str) -> Result<Option<i64>, StoreError> {
        let now = self.now_ms();
        let until = now + millis(LEASE);
        let result = sqlx::query(
            "UPDATE addon_resources SET lease_until = $2 \
             WHERE uuid = $1 AND state = 'provisioned' AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(uuid)
        .bind(until)
        .bind(now)
        .execute(&self.connections)
        .await?;
        Ok((result.rows_affected() == 1).then_some(until))
    }

    /// Moves a lease still held at `until` further on: the new `lease_until`, or `None` if it
    /// was lost (expired and taken by someone else).
    async fn renew_lease(&self, uuid: &str, until: i64) -> Result<Option<i64>, StoreError> {
        let renewed = self.now_ms() + millis(LEASE);
        let result =
            sqlx::query("UPDATE addon_resources SET lease_until = $3 WHERE uuid = $1 AND lease_until = $2")
                .bind(uuid)
                .bind(until)
                .bind(renewed)
                .execute(&self.connections)
                .await?;
        Ok((result.rows_affected() == 1).then_some(renewed))
    }

    /// Ends a lease still held at `until`.
    async fn end_lease(&self, uuid: &str, until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE addon_resources SET lease_until = NULL WHERE uuid = $1 AND lease_until = $2")
            .bind(uuid)
            .bind(until)
            .execute(&self.connections)
            .await?;
        Ok(())
    }
}

impl Lease {
    fn hold(store: Store, record: ResourceRecord, until: i64) -> Self {
        let held = Arc::new(Mutex::new(Held { until, ended: false }));
        tokio::spawn(renew(store.clone(), record.uuid.clone(), held.clone()));
        Lease { record, store, held }
    }

    /// The resource as it is while the lease is held (its plan cannot change meanwhile).
    pub fn resource(&self) -> &ResourceRecord {
        &self.record
    }

    /// Releases the lease now and waits for the registry to record it (dropping the guard
    /// releases it too, in the background).
    pub async fn release(self) {
        end(&self.store, &self.record.uuid, &self.held).await;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (store, uuid, held) = (self.store.clone(), self.record.uuid.clone(), self.held.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { end(&store, &uuid, &held).await });
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("resource", &self.record.uuid).finish_non_exhaustive()
    }
}

/// Renews the lease until it ends. Holding `held` while renewing means a release waits for a
/// renewal under way, and then releases what it wrote.
async fn renew(store: Store, uuid: String, held: Arc<Mutex<Held>>) {
    loop {
        tokio::time::sleep(RENEW).await;
        let mut held = held.lock().await;
        if held.ended {
            return;
        }
        match store.renew_lease(&uuid, held.until).await {
            Ok(Some(until)) => held.until = until,
            Ok(None) => {
                tracing::warn!(uuid = %uuid, "a vendor's lease expired before it was renewed, and was taken");
                held.ended = true;
                return;
            }
            // The next renewal may succeed; the lease has seconds left.
            Err(error) => tracing::warn!(uuid = %uuid, "could not renew a vendor's lease: {error}"),
        }
    }
}

/// Releases the lease once; a failure leaves it to expire.
async fn end(store: &Store, uuid: &str, held: &Mutex<Held>) {
    let mut held = held.lock().await;
    if held.ended {
        return;
    }
    held.ended = true;
    if let Err(error) = store.end_lease(uuid, held.until).await {
        tracing::warn!(uuid = %uuid, "could not release a vendor's lease (it expires by itself): {error}");
    }
}
