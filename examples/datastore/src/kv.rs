//! The key-value API the app uses: `/kv/<uuid>/<key>`, authenticated with the credentials in
//! `ACME_DATASTORE_URL` (Basic auth, compared in constant time).

use std::sync::Arc;

use addon_runtime::AddonError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{tenants, Datastore};

/// Values are text, up to this many bytes.
const MAX_VALUE: usize = 64 * 1024;

pub(crate) fn routes(datastore: Arc<Datastore>) -> Router {
    Router::new().route("/kv/{uuid}/{key}", get(read).put(write).delete(remove)).with_state(datastore)
}

async fn read(
    State(ds): State<Arc<Datastore>>,
    Path((uuid, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AddonError> {
    authenticate(&ds, &uuid, &headers).await?;
    match tenants::get(ds.store(), &uuid, &key).await? {
        Some(value) => Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], value).into_response()),
        None => Err(AddonError::not_found(format!("No value for the key `{key}`."))),
    }
}

async fn write(
    State(ds): State<Arc<Datastore>>,
    Path((uuid, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AddonError> {
    authenticate(&ds, &uuid, &headers).await?;
    if body.len() > MAX_VALUE {
        return Err(AddonError::new("Values are at most 64 KiB.").with_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let value =
        String::from_utf8(body.to_vec()).map_err(|_| AddonError::new("Values must be UTF-8 text."))?;
    tenants::put(ds.store(), &uuid, &key, &value).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove(
    State(ds): State<Arc<Datastore>>,
    Path((uuid, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AddonError> {
    authenticate(&ds, &uuid, &headers).await?;
    if tenants::delete(ds.store(), &uuid, &key).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AddonError::not_found(format!("No value for the key `{key}`.")))
    }
}

/// The tenant's own credentials, and only for the tenant's own path. One answer for every
/// failure, so the API does not tell which tenants exist.
async fn authenticate(ds: &Datastore, uuid: &str, headers: &HeaderMap) -> Result<(), AddonError> {
    let refused = || {
        AddonError::new("Use the credentials in ACME_DATASTORE_URL.").with_status(StatusCode::UNAUTHORIZED)
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .ok_or_else(refused)?;
    let tenant = tenants::find(ds.store(), uuid).await?.ok_or_else(refused)?;
    let expected = format!("{}:{}", tenant.username, tenant.secret);
    let matches: bool = Sha256::digest(&given).ct_eq(&Sha256::digest(expected.as_bytes())).into();
    if matches {
        Ok(())
    } else {
        Err(refused())
    }
}
