//! Calling the vendor's methods: bounded in time, and with their answers checked before they
//! reach Heroku.

use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;

use super::json;
use crate::AddonError;

/// Runs a vendor method, answering 503 if it takes longer than Heroku would wait.
pub(crate) async fn call<T>(
    timeout: Duration,
    method: &'static str,
    future: impl Future<Output = Result<T, AddonError>>,
) -> Result<T, AddonError> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(
                method,
                timeout_secs = timeout.as_secs_f64(),
                "the add-on's method did not finish in time"
            );
            Err(AddonError::unavailable(
                "The add-on took too long to answer. Please try again.",
            ))
        }
    }
}

/// The vendor's method answered something Heroku must not receive (an undeclared config var,
/// say). The details go to the vendor's log; Heroku gets a JSON 500 and retries later.
pub(crate) fn bug(method: &'static str, problem: &str) -> Response {
    tracing::error!(
        method,
        problem,
        "the add-on returned an answer that breaks the Partner API; nothing was recorded"
    );
    json::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The add-on returned an invalid answer. Its provider has been notified.",
    )
}
