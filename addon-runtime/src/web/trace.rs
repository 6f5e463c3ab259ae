//! One log line per request, with a request id, and never the query string (legacy SSO links
//! carry tokens there).
//!
//! Every line logged while a request is answered names it: `request{id=.. method=.. path=..}:`,
//! the way a tracing span would. How depends on the log:
//!
//! - **Plain** (what [`crate::init_logging`] installs when standard output is not a terminal:
//!   a server's log): the request's fields are the task's (`base::log_context`), which the log's
//!   own event format (`web::log_format`) writes, and the request's own line is written straight
//!   to the log. A tracing span per request (its fields formatted into the registry, entered and
//!   left on every poll) cost more than a fifth of a short request's CPU.
//! - **Otherwise** (a terminal, or a subscriber the program installed): a `request` span with
//!   the same fields, and the line as a tracing event, so any subscriber sees both.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use tracing::{Level, Span};

use super::log_format::{self, Escaping};
use super::log_sink;
use crate::base::log_context::{self, InRequest};

const REQUEST_ID: &str = "x-request-id";

/// The request a line is logged for.
#[derive(Debug)]
pub(crate) struct RequestContext {
    id: String,
    /// `id=.. method=.. path=..`, escaped, as tracing writes a span's fields (the query never).
    fields: Arc<str>,
}

impl RequestContext {
    pub(crate) fn new(request: &Request) -> Self {
        let id = request_id(request.headers());
        let mut fields = String::with_capacity(48 + request.uri().path().len());
        let _ = write!(
            Escaping(&mut fields),
            "id={id} method={} path={}",
            request.method(),
            request.uri().path()
        );
        Self { id, fields: fields.into() }
    }

    /// The span for the request's lines, when the log is not plain (see the module's
    /// documentation).
    pub(crate) fn span(&self, request: &Request) -> Span {
        if log_sink::plain() {
            return Span::none();
        }
        tracing::info_span!("request", id = %self.id, method = %request.method(), path = %request.uri().path())
    }

    /// `answer`, run as the work of this request (`base::log_context`).
    pub(crate) fn scope<F: Future>(&self, answer: F) -> InRequest<F> {
        log_context::scope(self.fields.clone(), answer)
    }
}

/// Logs the request's line and hands its id back to the caller.
pub(crate) fn answered(span: &Span, context: RequestContext, started: Instant, response: &mut Response) {
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if !log_sink::plain() {
        span.in_scope(|| tracing::info!(status, elapsed_ms, "answered"));
    } else if tracing::enabled!(Level::INFO) {
        log_sink::gather_with(|out| write_answered(out, &context, status, elapsed_ms));
    }
    // The id is only letters, digits and dashes: always a valid header value.
    if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(context.id)) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
}

/// The request's line as the plain log writes an event of this module: time, level, request,
/// target, message, fields.
fn write_answered(out: &mut Vec<u8>, context: &RequestContext, status: u16, elapsed_ms: u64) {
    log_format::write_head(out, &Level::INFO, Some(&context.fields));
    out.extend_from_slice(concat!(" ", module_path!(), ": answered status=").as_bytes());
    log_format::push_decimal(out, u64::from(status));
    out.extend_from_slice(b" elapsed_ms=");
    log_format::push_decimal(out, elapsed_ms);
    out.push(b'\n');
}

/// The request's id: the caller's `X-Request-Id` when it is a plausible one (letters, digits
/// and dashes, at most 128), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map_or_else(new_id, str::to_owned)
}

/// A new request id: 16 hex digits, distinct for every request of a process (a bijective mix
/// of a counter) and, by a random start drawn once, from other processes' ids. No system call
/// per request; ids only correlate lines, they guard nothing.
fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: OnceLock<u64> = OnceLock::new();
    let start = *START.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without the system's randomness, ids are still distinct within the process.
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", mix(start.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
}

/// SplitMix64's finalizer: a bijection on `u64` that spreads consecutive inputs apart.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_hex() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    #[test]
    fn the_plain_line_names_the_request_but_not_its_query() {
        let request = Request::builder()
            .method("POST")
            .uri("/sso/login?token=secret")
            .header(REQUEST_ID, "abc-123")
            .body(axum::body::Body::empty())
            .unwrap();
        let mut line = Vec::new();
        write_answered(&mut line, &RequestContext::new(&request), 303, 4);
        let line = String::from_utf8(line).unwrap();
        let (time, rest) = line.split_once(' ').unwrap();
        assert!(time.ends_with('Z') && time.contains('T'), "{line}");
        assert_eq!(
            rest,
            " INFO request{id=abc-123 method=POST path=/sso/login}: addon_runtime::web::trace: answered \
             status=303 elapsed_ms=4\n"
        );
    }
}
