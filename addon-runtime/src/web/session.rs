//! The [`Session`] extractor on the vendor's own pages: the cookie's signature and expiry, then
//! one registry query (resource live? session ended?).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::pages::PageMark;
use super::signed_out::{SignedOut, Why};
use crate::base::answer::AddonError;
use crate::services::sessions::{self, Session, SessionKeys, Unreadable};
use crate::services::store::{Standing, Store};

/// What the extractor and the logout route need; reaches them as a request extension.
pub(crate) struct SessionContext {
    pub(crate) keys: SessionKeys,
    pub(crate) store: Store,
    pub(crate) signed_out: SignedOut,
    /// The add-on's name, for the built-in pages.
    pub(crate) product: &'static str,
    /// The origin browsers reach the service at (`ADDON_PUBLIC_URL`), for sign-out's CSRF check.
    pub(crate) origin: String,
}

impl SessionContext {
    /// The session the request's cookie carries, if it still works, or why not.
    async fn check(&self, parts: &Parts) -> Result<Result<Session, Why>, AddonError> {
        let Some(value) = sessions::read_cookie(parts, sessions::COOKIE) else {
            return Ok(Err(Why::NotSignedIn));
        };
        let session = match self.keys.verify(value) {
            Ok(session) => session,
            Err(Unreadable::Invalid) => return Ok(Err(Why::Invalid)),
            Err(Unreadable::Expired) => return Ok(Err(Why::Expired)),
        };
        // The registry has the last word: a removed resource or a signed-out session ends here,
        // on every instance, whatever cookies are still around.
        Ok(match self.store.session_standing(&session.uuid, &session.sid).await? {
            Standing::Live => Ok(session),
            Standing::Ended => Err(Why::SignedOut),
            Standing::Gone => Err(Why::Removed),
            Standing::Suspended => Err(Why::Suspended),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        // A route behind a session is a page about one person: it gets the hardening headers.
        PageMark::mark(parts);
        let Some(context) = parts.extensions.get::<Arc<SessionContext>>().cloned() else {
            return Err(AddonError::sessions_not_set_up().into_response());
        };
        match context.check(parts).await {
            Ok(Ok(session)) => Ok(session),
            Ok(Err(why)) => {
                tracing::info!(reason = ?why, "a request without a working session was refused");
                Err(context.signed_out.refuse(why, &parts.headers, context.product))
            }
            Err(unavailable) => Err(unavailable.into_response()),
        }
    }
}
