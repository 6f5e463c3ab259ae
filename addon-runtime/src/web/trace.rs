//! One log line per request, with a request id, and never the query string (legacy SSO links
//! carry tokens there).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::FormatFields;

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

/// The log's field formatter: tracing's default, with every control character escaped, so no
/// value (a vendor's field included) can end a line early or paint the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> std::fmt::Result {
        DefaultFields::new().format_fields(Writer::new(&mut Escaping(&mut writer)), fields)
    }
}

/// Passes text on with every control character escaped as it goes (as [`crate::base::answer::escaped`] does), with
/// no buffer of its own: the log's formatting allocates nothing for it.
struct Escaping<'a, 'writer>(&'a mut Writer<'writer>);

impl std::fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, mut text: &str) -> std::fmt::Result {
        while let Some((at, control)) = text.char_indices().find(|(_, c)| c.is_control()) {
            self.0.write_str(&text[..at])?;
            for escape in control.escape_default() {
                self.0.write_char(escape)?;
            }
            text = &text[at + control.len_utf8()..];
        }
        self.0.write_str(text)
    }
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
    fn escaping_matches_the_one_escape_rule() {
        for text in ["plain", "a\nb\r\n", "\u{1b}[31mred", "é\u{7f}ü", "", "\n"] {
            let mut out = String::new();
            let mut writer = Writer::new(&mut out);
            std::fmt::Write::write_str(&mut Escaping(&mut writer), text).unwrap();
            assert_eq!(out, crate::base::answer::escaped(text), "{text:?}");
        }
    }
}
