//! Request bodies are read before the answer goes out, refused ones included.
//!
//! A server that answers before reading what the client is still sending (a 401, a 413) and
//! then closes the connection makes its kernel reset it, and a reset discards the answer on the
//! client's side before the client has read it: the client sees "connection reset" instead of the
//! message meant for it. So Heroku's routes read their body whole before the handler runs, and a
//! body that is refused is read to its end and thrown away first, within bounds.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::limits;
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
    /// The body deadline passed before the body arrived (`web::limits`).
    TimedOut(Duration),
}

async fn read(mut body: Body, limit: usize) -> Read {
    // Most bodies arrive in one frame: it is handed on as it is, and only a body in several
    // frames is copied into one buffer.
    let mut first: Option<Bytes> = None;
    let mut whole = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => return limits::timed_out(&error).map_or(Read::Broken, Read::TimedOut),
        };
        let Ok(data) = frame.into_data() else { continue };
        let so_far = first.as_ref().map_or(0, Bytes::len) + whole.len();
        if so_far + data.len() > limit {
            return Read::TooLarge(body);
        }
        match first.take() {
            None if whole.is_empty() => first = Some(data),
            None => whole.extend_from_slice(&data),
            Some(earlier) => {
                whole.extend_from_slice(&earlier);
                whole.extend_from_slice(&data);
            }
        }
    }
    Read::Whole(first.unwrap_or_else(|| whole.into()))
}

/// The request with its body read whole, if it is within `limit` bytes; a larger one is read to
/// its end (within bounds) and answered with a JSON 413. (`web::gate` calls this for every
/// marketplace route and page form.)
pub(crate) async fn whole(request: Request, limit: usize) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared.filter(|&n| n > limit as u64) {
        // Refused before reading. A declared body small enough to drain is read and thrown
        // away so the client gets the answer; a larger one (10^15 bytes, say) is not waited for.
        if declared <= DRAIN_BYTES as u64 {
            drain(body).await;
        }
        return Err(closing(AddonError::body_too_large(limit).into_response()));
    }
    match read(body, limit).await {
        Read::Whole(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Read::TooLarge(rest) => {
            drain(rest).await;
            Err(AddonError::body_too_large(limit).into_response())
        }
        Read::Broken => Err(AddonError::body_unreadable().into_response()),
        Read::TimedOut(limit) => Err(closing(AddonError::body_timeout(limit).into_response())),
    }
}

/// The connection is closed after this answer: the rest of the body will not be read.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
