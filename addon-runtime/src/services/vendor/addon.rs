use std::future::Future;

use super::jobs::{DeprovisionJob, PlanChangeJob, ProvisionJob};
use crate::base::answer::AddonError;
use crate::base::protocol::{
    BindRequest, Config, Credentials, DeprovisionRequest, Deprovisioned, Notification, PlanChangeRequest,
    PlanChanged, ProvisionRequest, Provisioned, SsoLogin, SsoRedirect, UnbindRequest,
};
use crate::base::spec::AddonSpec;

/// A Heroku add-on: its manifest and the vendor's answers to Heroku's calls.
///
/// `#[heroku_addon]` implements this trait; it can also be written by hand. The runtime does
/// everything around these methods (authentication, parsing, idempotency, SSO checks), so an
/// implementation holds only the vendor's own logic.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Heroku add-on",
    label = "no `#[heroku_addon(...)]` impl block for `{Self}`",
    note = "annotate an `impl {Self}` block with `#[heroku_addon(...)]`, or implement `addon_runtime::Addon` by hand"
)]
pub trait Addon: Send + Sync + 'static {
    /// What the manifest says: id, config vars, regions, URLs.
    const SPEC: AddonSpec;

    /// Creates the resource Heroku asks for. Called once per `uuid`: replays get the recorded answer.
    fn provision(
        &self,
        request: ProvisionRequest,
    ) -> impl Future<Output = Result<Provisioned, AddonError>> + Send;

    /// Moves a resource to another plan. Not called when the plan is already the current one.
    fn plan_change(
        &self,
        request: PlanChangeRequest,
    ) -> impl Future<Output = Result<PlanChanged, AddonError>> + Send;

    /// Removes a resource. Not called again once it succeeded.
    fn deprovision(
        &self,
        request: DeprovisionRequest,
    ) -> impl Future<Output = Result<Deprovisioned, AddonError>> + Send;

    /// Finishes a provision that answered [`Provisioned::later`]: returns the config to set.
    /// Runs in the background, retried with backoff until it succeeds or twelve hours pass.
    fn complete_provision(
        &self,
        job: ProvisionJob,
    ) -> impl Future<Output = Result<Config, AddonError>> + Send {
        let _ = job;
        async {
            Err(AddonError::internal(
                "`#[provision]` answered `Provisioned::later` but the add-on has no `#[complete_provision]` method",
            ))
        }
    }

    /// Finishes a plan change that answered [`PlanChanged::later`]: returns config to set (or an
    /// empty one). Without it, the plan change is simply confirmed.
    fn complete_plan_change(
        &self,
        job: PlanChangeJob,
    ) -> impl Future<Output = Result<Config, AddonError>> + Send {
        let _ = job;
        async { Ok(Config::new()) }
    }

    /// Finishes a deprovision that answered [`Deprovisioned::later`]; the runtime then tells
    /// Heroku it is done. Without it, that happens at once.
    fn complete_deprovision(
        &self,
        job: DeprovisionJob,
    ) -> impl Future<Output = Result<(), AddonError>> + Send {
        let _ = job;
        async { Ok(()) }
    }

    /// Runs after a user's SSO token was verified and before the session cookie is set; says where
    /// the browser goes. Without it, users land on `/`.
    fn sso(&self, login: SsoLogin) -> impl Future<Output = Result<SsoRedirect, AddonError>> + Send {
        let _ = login;
        async { Ok(SsoRedirect::to("/")) }
    }

    /// Hears what a marketplace reported about a resource (DigitalOcean's suspension,
    /// reactivation, failed deprovision, new plan or name), after the runtime recorded it.
    /// Without it, the runtime's record is all that happens. An error makes the marketplace's
    /// call fail, so it may be delivered again: make it safe to hear twice.
    fn notification(
        &self,
        notification: Notification,
    ) -> impl Future<Output = Result<(), AddonError>> + Send {
        let _ = notification;
        async { Ok(()) }
    }

    /// Hands out an app's credentials when a marketplace binds it (the Open Service Broker
    /// API); called once per binding id, and a repeated bind gets what was recorded. Without it,
    /// every binding gets the resource's config (`request.config`). Return credentials of the
    /// binding's own (a database user per app, say) to revoke them in `#[unbind]`.
    fn bind(&self, request: BindRequest) -> impl Future<Output = Result<Credentials, AddonError>> + Send {
        async move { Ok(Credentials::from(request.config)) }
    }

    /// Revokes what `#[bind]` handed out for this binding, before its record is removed. An
    /// error keeps the binding, and the platform retries. Without it, nothing is revoked.
    fn unbind(&self, request: UnbindRequest) -> impl Future<Output = Result<(), AddonError>> + Send {
        let _ = request;
        async { Ok(()) }
    }
}
