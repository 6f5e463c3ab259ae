//! The API at `ACME_LOGS_URL`: an app (or its developer) reads its own recent lines with the
//! `ACME_LOGS_TOKEN` Heroku set beside it, as `Authorization: Bearer <token>` (or as Basic
//! auth's password).
//!
//! The runtime's [`ApiKey`] finds the tenant by the token (through a keyed digest of it, so the
//! registry holds no plain copy) and only while it is live; the path's uuid must be that tenant's.
//! Each tenant's calls are counted against the API's rate limit (429 past it), after its token
//! is checked; a search (`q`) is at most [`MAX_QUERY_CHARS`] characters (400 past it).

use addon_runtime::extract::{Json, Path, Query};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use addon_runtime::{
    AddonError, ApiKey, ApiKeyVar, ConfigVar, Limited, LimitedResource, RateLimiter, ResourceRecord, Store,
};

use crate::plans::{self, PLANS};
use crate::{logbook, Logs, Shared};

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

/// `ACME_LOGS_TOKEN` is the API's key.
impl ApiKeyVar<Shared> for Logs {
    const VAR: ConfigVar = Logs::ACME_LOGS_TOKEN;

    fn store(logs: &Shared) -> &Store {
        logs.store()
    }
}

/// The tenant a call is for: the one its token opens, which the path must name. Limiting this
/// (not `ApiKey` alone) means a token sent to another tenant's address spends no allowance.
pub(crate) struct ApiTenant(ResourceRecord);

impl FromRequestParts<Shared> for ApiTenant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, logs: &Shared) -> Result<Self, Response> {
        let Path(uuid) = Path::<String>::from_request_parts(parts, logs)
            .await
            .map_err(|_| AddonError::not_found("This address names no Acme Logs tenant.").into_response())?;
        let tenant = ApiKey::<Logs>::from_request_parts(parts, logs).await?.into_resource();
        if tenant.uuid != uuid {
            return Err(another_tenants_address());
        }
        Ok(ApiTenant(tenant))
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

/// A live tenant's token at another tenant's address: refused as a wrong token is (401 with the
/// same challenge), so the answer does not say whether that other tenant exists.
fn another_tenants_address() -> Response {
    let refusal = AddonError::new(
        "This ACME_LOGS_TOKEN is not the one of the tenant this address names. Send it to the \
         ACME_LOGS_URL Heroku set beside it.",
    )
    .with_status(StatusCode::UNAUTHORIZED);
    let mut response = refusal.into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
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
