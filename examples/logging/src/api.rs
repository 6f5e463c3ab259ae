//! The API at `ACME_LOGS_URL`: an app (or its developer) reads its own recent lines with the
//! `ACME_LOGS_TOKEN` Heroku set beside it, as `Authorization: Bearer <token>`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use addon_runtime::{AddonError, ResourceState};

use crate::{logbook, Shared};

/// How many lines one answer holds at most.
const MAX_LINES: u32 = 500;

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

/// `GET /api/tenants/{uuid}?q=..&limit=..`: the tenant's lines, newest first.
pub(crate) async fn lines(
    State(logs): State<Shared>,
    Path(uuid): Path<String>,
    Query(search): Query<Search>,
    headers: HeaderMap,
) -> Result<Json<Lines>, AddonError> {
    authenticate(&logs, &uuid, &headers).await?;
    let limit = search.limit.unwrap_or(100).clamp(1, MAX_LINES);
    let query = search.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let found = logs.book().recent(&uuid, query, limit).await.map_err(logbook::unavailable)?;
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
async fn authenticate(logs: &Shared, uuid: &str, headers: &HeaderMap) -> Result<(), AddonError> {
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
    if matches {
        Ok(())
    } else {
        Err(refused())
    }
}
