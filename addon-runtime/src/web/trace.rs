//! One log line per request, with a request id, and never the query string (legacy SSO links
//! carry tokens there).

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::FormatFields;

use crate::base::answer::escaped;

const REQUEST_ID: &str = "x-request-id";

pub(crate) async fn trace(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map_or_else(new_id, str::to_owned);
    let span =
        tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

fn new_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(16);
    for b in bytes {
        id.push(char::from(DIGITS[usize::from(b >> 4)]));
        id.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    id
}

/// The log's field formatter: tracing's default, with every control character escaped, so no
/// value (a vendor's field included) can end a line early or paint the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> std::fmt::Result {
        let mut plain = String::new();
        DefaultFields::new().format_fields(Writer::new(&mut plain), fields)?;
        writer.write_str(&escaped(&plain))
    }
}
