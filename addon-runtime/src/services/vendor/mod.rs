//! The vendor's side: the [`Addon`](addon::Addon) trait the macro implements, what its
//! completion methods receive, and calling its methods on their own task (so a panic is
//! contained and a client that hangs up does not cancel them halfway), bounded in time.

pub(crate) mod addon;
pub(crate) mod jobs;

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinError;
// What the task logs names the request it works for, in the plain log (`log_context`) and in
// any other (the current span).
use tracing::Instrument;

use crate::base::answer::AddonError;
use crate::base::log_context;

/// Runs a vendor method. A panic becomes a 500 and a method slower than `timeout` is stopped
/// and answered with a 503; either way the caller can undo what it prepared.
pub(crate) async fn call<T: Send + 'static>(
    timeout: Duration,
    method: &'static str,
    future: impl Future<Output = Result<T, AddonError>> + Send + 'static,
) -> Result<T, AddonError> {
    let mut task = tokio::spawn(log_context::carry(future).in_current_span());
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(joined) => settled(method, joined)?,
        Err(_) => {
            task.abort();
            Err(AddonError::vendor_timeout(method, timeout))
        }
    }
}

/// Runs a whole request's work on its own task: if the client hangs up, what was started (a
/// claim, a lease) is still finished or undone rather than left half done.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, AddonError>> + Send + 'static,
) -> Result<T, AddonError> {
    settled("request", tokio::spawn(log_context::carry(work).in_current_span()).await)?
}

/// A finished task's output, or the one answer a panic gets.
fn settled<T>(method: &'static str, joined: Result<T, JoinError>) -> Result<T, AddonError> {
    joined.map_err(|error| match error.try_into_panic() {
        Ok(payload) => AddonError::panicked(method, payload.as_ref()),
        Err(cancelled) => AddonError::internal(cancelled),
    })
}
