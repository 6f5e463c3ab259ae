//! The body deadline: a request body that has not arrived whole by then ends with an error,
//! whoever reads it (the runtime's body reader, a vendor's extractor).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body past its deadline ends with; `web::body` answers it with a 408.
#[derive(Debug)]
pub(crate) struct BodyTimedOut(pub(crate) Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether a body error is the deadline's.
pub(crate) fn timed_out(error: &axum::Error) -> Option<Duration> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(BodyTimedOut(limit)) = e.downcast_ref::<BodyTimedOut>() {
            return Some(*limit);
        }
        source = e.source();
    }
    None
}

/// `body`, ending with [`BodyTimedOut`] if it is still arriving `limit` after now.
pub(crate) fn with_deadline<B>(body: B, limit: Duration) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    Body::new(Deadline { inner: body, due: Instant::now() + limit, sleep: None, limit })
}

struct Deadline<B> {
    inner: B,
    due: Instant,
    /// The timer, started only when the body has to be waited for: most bodies arrive with
    /// their head (or are empty) and never need one.
    sleep: Option<Pin<Box<Sleep>>>,
    limit: Duration,
}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.inner.is_end_stream() {
            return Poll::Ready(None);
        }
        let due = self.due;
        match self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due))).as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
