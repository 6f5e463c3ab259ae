//! The session a successful SSO login starts: a signed cookie bound to one resource, the
//! [`Session`] extractor that reads it on the vendor's own pages, and signing out.

mod cookie;
mod logout;
mod signed_out;

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::http::json;
use crate::store::Standing;
use crate::{AddonError, Store};

pub(crate) use cookie::{cookie_header, unix_now, SessionKeys};
pub(crate) use logout::logout;
pub use signed_out::SignedOut;
use signed_out::Why;

/// A user signed in through Heroku SSO, for one resource.
///
/// Put it in a handler's arguments on routes passed to [`App::with_routes`](crate::App::with_routes).
/// Before the handler runs, the request must carry a session cookie that is genuine (signed with
/// the app's key), unexpired, not signed out, and for a resource that is still provisioned in
/// the registry; otherwise the client gets `401` (JSON, or for a browser the page or redirect
/// chosen with [`App::with_signed_out`](crate::App::with_signed_out)). A session only ever speaks
/// for the resource its login named; check it with [`Session::require`] on routes that carry a
/// resource id.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "r")]
    uuid: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// This session's own id: signing out records it as ended.
    #[serde(rename = "s")]
    sid: String,
    /// Unix seconds after which the cookie is refused, whatever the browser kept.
    #[serde(rename = "x")]
    expires_at: u64,
}

impl Session {
    /// Where a signed-in page posts to sign out (a form with `method="post"`): the runtime ends
    /// the session for good, clears the cookie, and answers as [`SignedOut`] says.
    pub const LOGOUT_PATH: &'static str = "/sso/logout";

    /// The uuid of the resource this session is for.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The user's email, as Heroku sent it at login.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The user's Heroku id, as Heroku sent it at login.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Unix seconds at which the session ends.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// 403 unless this session is for `uuid`: a login to one resource never opens another's pages.
    pub fn require(&self, uuid: &str) -> Result<(), AddonError> {
        if self.uuid == uuid {
            Ok(())
        } else {
            Err(AddonError::forbidden(
                "You are signed in to a different add-on resource. Open this one from the Heroku dashboard.",
            ))
        }
    }
}

// The session id is left out: it is what signing out revokes, and logs have no use for it.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("uuid", &self.uuid)
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What the extractor and the logout route need; reaches them as a request extension.
pub(crate) struct SessionContext {
    pub(crate) keys: SessionKeys,
    pub(crate) store: Store,
    pub(crate) signed_out: SignedOut,
    /// The add-on's name, for the built-in pages.
    pub(crate) product: &'static str,
}

impl SessionContext {
    /// The session the request's cookie carries, if it still works, or why not.
    async fn check(&self, parts: &Parts) -> Result<Result<Session, Why>, AddonError> {
        let Some(value) = cookie::read_cookie(parts, cookie::COOKIE) else {
            return Ok(Err(Why::NotSignedIn));
        };
        let session = match self.keys.verify(value) {
            Ok(session) => session,
            Err(cookie::Unreadable::Invalid) => return Ok(Err(Why::Invalid)),
            Err(cookie::Unreadable::Expired) => return Ok(Err(Why::Expired)),
        };
        // The registry has the last word: a removed resource or a signed-out session ends here,
        // on every instance, whatever cookies are still around.
        Ok(match self.store.session_standing(&session.uuid, &session.sid).await? {
            Standing::Live => Ok(session),
            Standing::Ended => Err(Why::SignedOut),
            Standing::Gone => Err(Why::Removed),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let Some(context) = parts.extensions.get::<std::sync::Arc<SessionContext>>().cloned() else {
            tracing::error!(
                "a route uses `Session` but is not part of the add-on's App: add it with `App::with_routes`"
            );
            return Err(json::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page is not set up for add-on sessions.",
            ));
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
