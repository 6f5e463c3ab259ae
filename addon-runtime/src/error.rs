use std::borrow::Cow;
use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An answer a vendor's method gives instead of success: a status and a message that Heroku
/// shows to its user (in the CLI or the dashboard), so it is written for them.
///
/// [`AddonError::new`] answers 422, the status Heroku's documentation gives for a request that
/// cannot be fulfilled. Any error type converts into an `AddonError` with `?`: it becomes a 500
/// whose message reveals nothing, and the original error is logged for the vendor.
pub struct AddonError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// The vendor's own error text, logged but never sent.
    detail: Option<String>,
}

impl AddonError {
    /// A request that cannot be fulfilled (422), with a message for Heroku's user.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, message: message.into(), detail: None }
    }

    /// The same message with another status. Only 4xx and 5xx statuses are kept: an error
    /// that claimed success would mislead Heroku, so anything else becomes 500.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        self
    }

    /// 404: the resource does not exist.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::NOT_FOUND)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::FORBIDDEN)
    }

    /// 503: try again later; Heroku retries provisioning calls.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// 500 with a message that reveals nothing; `detail` is logged for the vendor.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: Cow::Borrowed("The add-on could not complete this request. Please try again later."),
            detail: Some(detail.to_string()),
        }
    }

    /// Keeps `detail` for the log (never sent), whatever the status.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message Heroku's user sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The registry's database failed: 503, which Heroku retries; the cause is logged.
impl From<crate::StoreError> for AddonError {
    fn from(error: crate::StoreError) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: Cow::Borrowed(
                "The add-on's database is unavailable right now. Please try again shortly.",
            ),
            detail: Some(error.to_string()),
        }
    }
}

/// `?` works on any error: it becomes [`AddonError::internal`].
impl<E: std::error::Error> From<E> for AddonError {
    fn from(error: E) -> Self {
        Self::internal(error)
    }
}

impl fmt::Debug for AddonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddonError")
            .field("status", &self.status.as_u16())
            .field("message", &self.message)
            .field("detail", &self.detail)
            .finish()
    }
}

impl fmt::Display for AddonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl IntoResponse for AddonError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                detail = self.detail.as_deref(),
                "{}",
                self.message
            );
        } else {
            tracing::info!(status = self.status.as_u16(), "{}", self.message);
        }
        crate::http::json::error(self.status, &self.message)
    }
}

/// Why the runtime could not start or keep serving. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// The add-on's declaration breaks a manifest rule (only possible for hand-written `Addon` impls:
    /// the macro refuses them at compile time).
    #[error("the add-on's manifest is not valid:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Manifest(Vec<addon_manifest::Problem>),
    /// The registry's database could not be opened or migrated.
    #[error("registry: {0}")]
    Store(String),
    /// The listener could not be bound or the server failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}
