//! Sign-in: a login an adapter verified (its marketplace's token, time window and user) meets
//! the registry (the resource must be live) and the vendor (where the browser goes), and comes
//! out as a session.

use http::HeaderValue;

use super::Core;
use crate::base::answer::AddonError;
use crate::base::protocol::{Marketplace, SsoLogin, SsoUser, TokenKind};
use crate::services::store::ResourceState;
use crate::services::vendor::{self, addon::Addon};

/// A login whose token checked out, in the adapter's terms made neutral.
#[derive(Debug)]
pub(crate) struct VerifiedLogin {
    /// The marketplace whose token it was: only its own resources sign in through it.
    pub(crate) marketplace: Marketplace,
    /// The resource as the token named it: a uuid, or the id the provision answer gave.
    pub(crate) resource: String,
    pub(crate) token: TokenKind,
    /// Vouched for by the token only when `token` is `UserScoped`.
    pub(crate) user: Option<SsoUser>,
    pub(crate) app: Option<String>,
    pub(crate) owning_app: Option<String>,
    /// The same for every submission of one signed form (a digest of its token), so a
    /// single-use registry can tell a replay.
    pub(crate) proof: String,
    /// Unix seconds after which the form is stale anyway: how long the proof must be kept.
    pub(crate) valid_until: u64,
}

/// Where the browser goes, and the `Set-Cookie` value of the session that signs it in there.
#[derive(Debug)]
pub(crate) struct SignedIn {
    pub(crate) location: HeaderValue,
    pub(crate) session: HeaderValue,
}

/// Checks the resource, lets the vendor choose the landing page, and starts a session.
pub(crate) async fn sign_in<A: Addon>(core: &Core<A>, login: VerifiedLogin) -> Result<SignedIn, AddonError> {
    // Its uuid, plan and state are all sign-in needs: no sealed value is opened.
    let resource = core.store.summary(&login.resource).await?;
    let resource = resource
        .filter(|resource| resource.marketplace == login.marketplace)
        .ok_or_else(AddonError::sso_unknown_resource)?;
    match resource.state {
        ResourceState::Provisioned => {}
        ResourceState::Provisioning | ResourceState::Pending => return Err(AddonError::sso_not_ready()),
        ResourceState::Deprovisioned | ResourceState::Failed => return Err(AddonError::sso_removed()),
    }
    if resource.suspended {
        return Err(AddonError::suspended());
    }
    // Only a genuine form for a live resource is remembered, so refusals cannot fill the table.
    if core.settings.sso_single_use && !core.store.first_sight(&login.proof, login.valid_until).await? {
        return Err(AddonError::sso_replayed());
    }
    let user = login.user.clone();
    let vouched = login.token == TokenKind::UserScoped;
    let vendor_login = SsoLogin {
        uuid: resource.uuid.clone(),
        plan: resource.plan.into(),
        token: login.token,
        user: login.user,
        app: login.app,
        owning_app: login.owning_app,
        marketplace: login.marketplace,
    };
    let addon = core.addon.clone();
    let target =
        vendor::call(core.settings.handler_timeout, "sso", async move { addon.sso(vendor_login).await })
            .await?;
    target.check().map_err(|problem| AddonError::vendor_bug("sso", &problem))?;
    let location = HeaderValue::from_str(target.location())
        .map_err(|_| AddonError::vendor_bug("sso", "the redirect is not a valid header value"))?;
    let session = core.sessions.issue(&resource.uuid, user.as_ref(), vouched);
    Ok(SignedIn { location, session })
}
