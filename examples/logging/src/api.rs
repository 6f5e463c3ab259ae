//! The API at `ACME_LOGS_URL`: an app (or its developer) reads its own recent lines with the
//! `ACME_LOGS_TOKEN` Heroku set beside it, as `Authorization: Bearer <token>`.
//!
//! Each tenant's calls are counted against the API's rate limit (429 past it), after its token
//! is checked; a search (`q`) is at most [`MAX_QUERY_CHARS`] characters (400 past it).

use addon_runtime::extract::{Json, Path, Query};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use addon_runtime::{AddonError, Limited, LimitedResource, RateLimiter, ResourceRecord, ResourceState};

use crate::plans::{self, PLANS};
use crate::{logbook, Shared};

/// How many lines one answer holds at most.
const MAX_LINES: u32 = 500;
/// The longest search, in characters: no log line needs a longer needle, and a `LIKE` scan's
/// cost grows with it.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct Lines {
    lines: Vec<Line>,
}

#[derive(Serialize)]
struct Line {
    /// `2026-11-27 10:33:55.567`, UTC.
    time: String,
    severity: u8,
    source: String,
    text: String,
}

/// The tenant a call is for: the path's uuid, proven by its bearer token.
pub(crate) struct ApiTenant(ResourceRecord);

impl FromRequestParts<Shared> for ApiTenant {
    type Rejection = AddonError;

    async fn from_request_parts(parts: &mut Parts, logs: &Shared) -> Result<Self, AddonError> {
        let Path(uuid) = Path::<String>::from_request_parts(parts, logs)
            .await
            .map_err(|_| AddonError::not_found("This address names no Acme Logs tenant."))?;
        authenticate(logs, &uuid, &parts.headers).await.map(ApiTenant)
    }
}

impl LimitedResource<Shared> for ApiTenant {
    fn rate_limiter(logs: &Shared) -> &RateLimiter {
        &logs.limits.api
    }

    fn resource_uuid(&self) -> &str {
        &self.0.uuid
    }
}

/// `GET /api/tenants/{uuid}?q=..&limit=..`: the tenant's lines, newest first.
pub(crate) async fn lines(
    State(logs): State<Shared>,
    Limited(ApiTenant(tenant)): Limited<ApiTenant>,
    Query(search): Query<Search>,
) -> Result<Json<Lines>, AddonError> {
    let limit = search.limit.unwrap_or(100).clamp(1, MAX_LINES);
    let query = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(length) = query.map(|q| q.chars().count()).filter(|&n| n > MAX_QUERY_CHARS) {
        return Err(AddonError::new(format!(
            "Searches are at most {MAX_QUERY_CHARS} characters; this one has {length}. Search for a shorter part \
             of the line."
        ))
        .with_status(StatusCode::BAD_REQUEST));
    }
    let plan = plans::plan(&tenant.plan).unwrap_or(&PLANS[0]);
    let found = logs.book().recent(&tenant.uuid, plan, query, limit).await.map_err(logbook::unavailable)?;
    let lines = found
        .into_iter()
        .map(|line| Line {
            time: crate::logplex::time::format_utc(line.logged_at),
            severity: line.severity,
            source: format!("{} {}", line.app, line.process),
            text: line.text,
        })
        .collect();
    Ok(Json(Lines { lines }))
}

/// The bearer token must be the tenant's `ACME_LOGS_TOKEN`, compared in constant time, and the
/// tenant live. One answer for every failure, so the API does not tell which tenants exist.
async fn authenticate(logs: &Shared, uuid: &str, headers: &HeaderMap) -> Result<ResourceRecord, AddonError> {
    let refused = || {
        AddonError::new("Send `Authorization: Bearer $ACME_LOGS_TOKEN`.")
            .with_status(StatusCode::UNAUTHORIZED)
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(refused)?;
    let tenant = logs.store().resource(uuid).await?.filter(|r| r.state == ResourceState::Provisioned);
    let expected = tenant.as_ref().and_then(|t| t.config_var("ACME_LOGS_TOKEN")).ok_or_else(refused)?;
    let matches: bool =
        Sha256::digest(given.trim().as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())).into();
    match tenant {
        Some(tenant) if matches => Ok(tenant),
        _ => Err(refused()),
    }
}
