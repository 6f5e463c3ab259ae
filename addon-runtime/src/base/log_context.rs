//! Which request the current task works for, as the log names it: `request{id=.. method=..
//! path=..}`. The web layer sets it around each request (`web::trace`), the vendor's tasks carry
//! it on (`services::vendor`), and the plain log's format writes it (`web::log_format`): what a
//! tracing span per request would do, without its cost.

use std::future::Future;
use std::sync::Arc;

use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    /// The request's fields, already escaped, if the task works for one.
    static REQUEST: Option<Arc<str>>;
}

/// A future run as the work of the request with these fields.
pub(crate) type InRequest<F> = TaskLocalFuture<Option<Arc<str>>, F>;

/// `work`, run for the request whose fields (`id=.. method=.. path=..`) these are.
pub(crate) fn scope<F: Future>(fields: Arc<str>, work: F) -> InRequest<F> {
    REQUEST.scope(Some(fields), work)
}

/// `work`, to be spawned on a task of its own, still for the current task's request (if any):
/// what a vendor's method logs names the request it serves.
pub(crate) fn carry<F: Future>(work: F) -> InRequest<F> {
    REQUEST.scope(current(), work)
}

/// The fields of the request the current task works for.
pub(crate) fn current() -> Option<Arc<str>> {
    REQUEST.try_with(Option::clone).ok().flatten()
}
