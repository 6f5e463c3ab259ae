//! `POST /drain`: where Heroku's Logplex sends each tenant's app logs.
//!
//! A request is one *frame*: a batch of messages, named by `Logplex-Frame-Id` (a retry repeats
//! it), counted by `Logplex-Msg-Count`, and tied to a resource by `Logplex-Drain-Token`, the
//! token Heroku sent at provisioning. There is no other authentication: the token is the key.
//!
//! | answer | when |
//! | --- | --- |
//! | 204 | stored, or already stored (a repeated frame id) |
//! | 400 | no drain token; a body that is not octet-counted syslog; a message count that does not match |
//! | 404 | no live resource has this drain token (never provisioned, or deprovisioned) |
//! | 413 | a body over the size limit |
//! | 415 | a content type other than `application/logplex-1` |
//! | 413 | a frame of more lines than the lines limit's burst |
//! | 429 | the tenant sends frames or lines faster than its rate limits, or past its plan's lines for today |
//! | 503 | the log store is unreachable; Logplex retries |
//!
//! Every 4xx but 429 after the resource is known counts as a rejected frame on its dashboard. A
//! frame without `Logplex-Frame-Id` (Heroku always sends one) is stored without de-duplication.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use crate::logbook::{self, Stored};
use crate::plans::{self, thousands, Plan};
use crate::{logplex, Shared};
use addon_runtime::{AddonError, ResourceRecord};

const CONTENT_TYPE: &str = "application/logplex-1";
/// Frame ids are Logplex's own (hex digests); anything much longer is not one.
const MAX_FRAME_ID: usize = 128;

/// The live resource a drain request's `Logplex-Drain-Token` names.
pub(crate) struct DrainTenant(ResourceRecord);

impl FromRequestParts<Shared> for DrainTenant {
    type Rejection = AddonError;

    async fn from_request_parts(parts: &mut Parts, logs: &Shared) -> Result<Self, AddonError> {
        let token = header(&parts.headers, "logplex-drain-token").ok_or_else(|| {
            refuse(StatusCode::BAD_REQUEST, "Log drain requests must carry a `Logplex-Drain-Token` header.")
        })?;
        let tenant = logs.store().resource_by_drain_token(token).await?.ok_or_else(|| {
            AddonError::not_found("No Acme Logs resource has this drain token; it may have been removed.")
        })?;
        Ok(DrainTenant(tenant))
    }
}

pub(crate) async fn ingest(
    State(logs): State<Shared>,
    DrainTenant(tenant): DrainTenant,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AddonError> {
    // Counted once the body is read (not with the `Limited` extractor, which answers before):
    // a client still sending a large frame would see the connection reset, not the 429.
    logs.limits.drain.check(&tenant.uuid)?;
    match accept(&logs, &tenant, &headers, body).await {
        Ok(stored) => {
            tracing::debug!(uuid = %tenant.uuid, ?stored, "drain frame");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(refusal) if refusal.status() == StatusCode::TOO_MANY_REQUESTS => Err(refusal),
        Err(refusal) if refusal.status().is_client_error() => {
            logs.book().reject_frame(&tenant.uuid).await.map_err(logbook::unavailable)?;
            tracing::info!(uuid = %tenant.uuid, reason = refusal.message(), "drain frame rejected");
            Err(refusal)
        }
        Err(failure) => Err(failure),
    }
}

/// Checks the frame of a known resource, then stores it.
async fn accept(
    logs: &Shared,
    tenant: &ResourceRecord,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Stored, AddonError> {
    // A plan the add-on no longer sells keeps the cheapest plan's limits.
    let plan = plans::plan(&tenant.plan).unwrap_or(&plans::PLANS[0]);
    let content_type = header(headers, "content-type").unwrap_or_default();
    if !content_type.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(CONTENT_TYPE) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Log drain bodies must be `{CONTENT_TYPE}`, not `{content_type}`."),
        ));
    }
    let frame_id = header(headers, "logplex-frame-id");
    if frame_id.is_some_and(|id| id.is_empty() || id.len() > MAX_FRAME_ID) {
        return Err(refuse(StatusCode::BAD_REQUEST, "The `Logplex-Frame-Id` header is not a frame id."));
    }
    let body =
        body.map_err(|rejection| refuse(rejection.status(), "The log drain body could not be read."))?;
    let messages = logplex::parse(&body).map_err(|error| {
        refuse(StatusCode::BAD_REQUEST, format!("The log drain body is malformed: {error}."))
    })?;
    if let Some(count) = header(headers, "logplex-msg-count") {
        if count.trim().parse::<usize>().ok() != Some(messages.len()) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("`Logplex-Msg-Count` says {count} messages, but the body holds {}.", messages.len()),
            ));
        }
    }
    logs.limits.lines.check_n(&tenant.uuid, u32::try_from(messages.len()).unwrap_or(u32::MAX))?;
    let stored = logs
        .book()
        .store_frame(&tenant.uuid, plan, frame_id, &messages)
        .await
        .map_err(logbook::unavailable)?;
    match stored {
        Stored::OverDailyLimit { used, resets_in } => {
            Err(over_daily_limit(plan, used, messages.len(), resets_in))
        }
        stored => Ok(stored),
    }
}

/// 429: the frame would take the tenant past its plan's lines for today.
fn over_daily_limit(plan: &Plan, used: u64, frame: usize, resets_in: Duration) -> AddonError {
    let minutes = resets_in.as_secs().div_ceil(60);
    refuse(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "The {} plan stores {} log lines a day; this add-on has stored {} today and this frame holds {}. \
             The count resets at 00:00 UTC, in {} h {} min; upgrade the plan to store more.",
            plan.slug,
            thousands(plan.lines_per_day),
            thousands(used),
            thousands(u64::try_from(frame).unwrap_or(u64::MAX)),
            minutes / 60,
            minutes % 60,
        ),
    )
    .with_retry_after(resets_in)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refuse(status: StatusCode, message: impl Into<std::borrow::Cow<'static, str>>) -> AddonError {
    AddonError::new(message).with_status(status)
}
