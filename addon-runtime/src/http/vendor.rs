//! Calling the vendor's methods: on their own task (so a panic is contained and a client that
//! hangs up does not cancel them halfway), bounded in time, and with their answers checked
//! before they reach Heroku.

use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;

use super::json;
use crate::AddonError;

/// Runs a vendor method. A panic becomes a 500 and a method slower than `timeout` is stopped
/// and answered with a 503; either way the caller can undo what it prepared.
pub(crate) async fn call<T: Send + 'static>(
    timeout: Duration,
    method: &'static str,
    future: impl Future<Output = Result<T, AddonError>> + Send + 'static,
) -> Result<T, AddonError> {
    let mut task = tokio::spawn(future);
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join_error)) => {
            let panic = join_error.try_into_panic().ok();
            let message = panic
                .as_ref()
                .and_then(|p| {
                    p.downcast_ref::<&str>()
                        .copied()
                        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
                })
                .unwrap_or("(no message)");
            tracing::error!(method, panic = message, "the add-on's method panicked; nothing was recorded");
            Err(AddonError::new("The add-on failed while handling this request. Please try again.")
                .with_status(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Err(_) => {
            task.abort();
            tracing::error!(
                method,
                timeout_secs = timeout.as_secs_f64(),
                "the add-on's method did not finish in time"
            );
            Err(AddonError::unavailable("The add-on took too long to answer. Please try again."))
        }
    }
}

/// Runs a whole request's work on its own task: if Heroku hangs up, what was started (a claim,
/// a lease) is still finished or undone rather than left half done.
pub(crate) async fn detached(work: impl Future<Output = Response> + Send + 'static) -> Response {
    match tokio::spawn(work).await {
        Ok(response) => response,
        Err(_) => {
            json::error(StatusCode::INTERNAL_SERVER_ERROR, "The add-on failed while handling this request.")
        }
    }
}

/// The vendor's method answered something Heroku must not receive (an undeclared config var,
/// say). The details go to the vendor's log; Heroku gets a JSON 500 and retries later.
pub(crate) fn bug(method: &'static str, problem: &str) -> AddonError {
    tracing::error!(
        method,
        problem,
        "the add-on returned an answer that breaks the Partner API; nothing was recorded"
    );
    AddonError::new("The add-on returned an invalid answer. Its provider has been notified.")
        .with_status(StatusCode::INTERNAL_SERVER_ERROR)
}
