//! Request bodies are read before the answer goes out, refused ones included.
//!
//! A server that answers before reading what the client is still sending (a 401, a 413) and
//! then closes the connection makes its kernel reset it, and a reset discards the answer on the
//! client's side before the client has read it: the client sees "connection reset" instead of the
//! message meant for it. So Heroku's routes read their body whole before the handler runs, and a
//! body that is refused is read to its end and thrown away first, within bounds.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::base::answer::AddonError;

/// How much of a refused body is read and thrown away, at most; a client sending more than
/// this gets its connection closed.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// How long reading a refused body may take, at most.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads the rest of a body that will not be used, so the answer reaches the client.
pub(crate) async fn drain(body: Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, read(body, DRAIN_BYTES)).await;
}

/// What reading a body up to a limit gave.
enum Read {
    Whole(Bytes),
    /// Over the limit; the body's first part was read and dropped, the rest is left.
    TooLarge(Body),
    /// The client went away or sent a malformed body.
    Broken,
}

async fn read(mut body: Body, limit: usize) -> Read {
    let mut whole = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Read::Broken };
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > limit {
                return Read::TooLarge(body);
            }
            whole.extend_from_slice(&data);
        }
    }
    Read::Whole(whole.into())
}

/// Middleware for Heroku's routes: the body within `limit` bytes is read whole and handed on;
/// a larger one is read to its end (within bounds) and answered with a JSON 413.
pub(crate) async fn read_whole(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match read(body, limit).await {
        Read::Whole(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Read::TooLarge(rest) => {
            drain(rest).await;
            AddonError::body_too_large(limit).into_response()
        }
        Read::Broken => AddonError::body_unreadable().into_response(),
    }
}
