//! DigitalOcean's side, for tests: [`DigitalOcean`] sends the calls DigitalOcean Add-Ons sends an
//! add-on (Basic auth `slug:password`, its provision body, SSO forms signed with HMAC-SHA256 over
//! `"{timestamp}:{resource_uuid}"`, notifications); [`FakeDigitalOcean`] is its OAuth token
//! endpoint and config PATCH on a loopback port, checking what DigitalOcean would and recording
//! every exchange and patch.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{client, Call};

/// DigitalOcean calling one add-on: its origin, routes' prefix, slug, password and SSO salt.
#[derive(Clone)]
pub struct DigitalOcean {
    /// The origin the add-on listens on, such as `http://127.0.0.1:5000`.
    pub url: String,
    /// The client every request goes through: [`client()`], redirects not followed.
    pub client: reqwest::Client,
    /// The prefix of DigitalOcean's routes, such as `/digitalocean`.
    pub base_path: String,
    /// The Basic auth user: the add-on's slug on DigitalOcean.
    pub slug: String,
    password: String,
    salt: String,
}

// Holds the password and salt: `Debug` shows where it calls only.
impl std::fmt::Debug for DigitalOcean {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigitalOcean")
            .field("url", &self.url)
            .field("base_path", &self.base_path)
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// A provision body as DigitalOcean's sample add-on documents it, without a grant.
pub fn digitalocean_body(uuid: &str, plan: &str) -> Value {
    json!({
        "uuid": uuid,
        "plan_slug": plan,
        "resource_name": format!("resource-{}", &uuid[..uuid.len().min(8)]),
        "app_slug": "sample_app",
        "metadata": {"language": "en", "email_preference": true},
        "email": "user-123@users.digitalocean.example",
        "creator_id": "team-123",
    })
}

impl DigitalOcean {
    pub fn new(url: impl Into<String>, base_path: &str, slug: &str, password: &str, sso_salt: &str) -> Self {
        DigitalOcean {
            url: url.into().trim_end_matches('/').to_owned(),
            client: client(),
            base_path: base_path.trim_end_matches('/').to_owned(),
            slug: slug.to_owned(),
            password: password.to_owned(),
            salt: sso_salt.to_owned(),
        }
    }

    /// A request to `{base_path}{path}` with DigitalOcean's Basic auth.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}{path}", self.url, self.base_path))
            .basic_auth(&self.slug, Some(&self.password))
    }

    /// `POST {base}/resources`.
    pub async fn provision(&self, body: &Value) -> reqwest::Response {
        self.request(Method::POST, "/resources").json(body).send().await.expect("the add-on answers")
    }

    /// `PUT {base}/resources/{uuid}` with `{"plan_slug"}`.
    pub async fn plan_change(&self, uuid: &str, plan: &str) -> reqwest::Response {
        let body = json!({ "plan_slug": plan });
        self.request(Method::PUT, &format!("/resources/{uuid}"))
            .json(&body)
            .send()
            .await
            .expect("the add-on answers")
    }

    /// `DELETE {base}/resources/{uuid}`.
    pub async fn deprovision(&self, uuid: &str) -> reqwest::Response {
        self.request(Method::DELETE, &format!("/resources/{uuid}")).send().await.expect("the add-on answers")
    }

    /// `POST {base}/notifications` with `{"type", "created_at", "payload"}`.
    pub async fn notify(&self, kind: &str, payload: Value) -> reqwest::Response {
        let body = json!({ "type": kind, "created_at": crate::now(), "payload": payload });
        self.request(Method::POST, "/notifications").json(&body).send().await.expect("the add-on answers")
    }

    /// `resources.suspended`, `resources.reactivated` or `resources.deprovisioning.failed` for
    /// these resources.
    pub async fn notify_resources(&self, kind: &str, uuids: &[&str]) -> reqwest::Response {
        self.notify(kind, json!({ "resources_uuids": uuids })).await
    }

    /// The SSO form DigitalOcean posts for a resource, signed at `timestamp`.
    pub fn sso_form(&self, uuid: &str, timestamp: u64) -> Vec<(&'static str, String)> {
        vec![
            ("resource_uuid", uuid.to_owned()),
            ("token", digitalocean_sso_token(&self.salt, &timestamp.to_string(), uuid)),
            ("timestamp", timestamp.to_string()),
            ("user_email", "user-123@users.digitalocean.example".to_owned()),
            ("user_id", "123".to_owned()),
        ]
    }

    /// Posts an SSO form to `{base}/sso` (no auth: the token is the proof).
    pub async fn sso_post(&self, form: &[(&str, String)]) -> reqwest::Response {
        self.client
            .post(format!("{}{}/sso", self.url, self.base_path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(crate::urlencode(form))
            .send()
            .await
            .expect("the add-on answers")
    }
}

/// `hex(HMAC-SHA256(key = salt, message = "{timestamp}:{resource_uuid}"))`, DigitalOcean's SSO token.
pub fn digitalocean_sso_token(salt: &str, timestamp: &str, resource_uuid: &str) -> String {
    hmac_sha256(salt.as_bytes(), format!("{timestamp}:{resource_uuid}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// HMAC (RFC 2104) over SHA-256, written out so this crate needs no `hmac` dependency.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

#[derive(Default)]
struct FakeState {
    client_secret: String,
    grants: HashMap<String, String>,
    /// Access token → resource uuid.
    tokens: HashMap<String, String>,
    refresh_tokens: HashMap<String, String>,
    config: HashMap<String, BTreeMap<String, String>>,
    calls: Vec<Call>,
    next: u64,
    /// `expires_in` of the tokens a grant gives (DigitalOcean: eight hours).
    grant_lifetime: Option<u64>,
}

/// DigitalOcean's OAuth token endpoint and config PATCH, faked on 127.0.0.1.
#[derive(Clone)]
pub struct FakeDigitalOcean {
    url: String,
    state: Arc<Mutex<FakeState>>,
}

impl std::fmt::Debug for FakeDigitalOcean {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDigitalOcean").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeDigitalOcean {
    /// Starts the fake on a free loopback port; `client_secret` is the one it accepts.
    pub async fn start(client_secret: &str) -> FakeDigitalOcean {
        let state = Arc::new(Mutex::new(FakeState {
            client_secret: client_secret.to_owned(),
            ..FakeState::default()
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("the listener's address"));
        let router = Router::new()
            .route("/v2/add-ons/oauth/token", post(token))
            .route("/v2/add-ons/resources/{uuid}/config", patch(update_config))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeDigitalOcean { url, state }
    }

    /// The origin, for `ADDON_DO_API_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Issues a grant code for a resource, as DigitalOcean puts in a provision's `oauth_grant`.
    pub fn grant(&self, uuid: &str) -> String {
        let mut state = self.lock();
        state.next += 1;
        let code = format!("do-grant-{}-{uuid}", state.next);
        state.grants.insert(code.clone(), uuid.to_owned());
        code
    }

    /// How long (seconds) the tokens a grant gives last; zero makes the add-on refresh before
    /// its first call. Refreshed tokens last eight hours.
    pub fn set_grant_token_lifetime(&self, seconds: u64) {
        self.lock().grant_lifetime = Some(seconds);
    }

    /// The config set on a resource through the PATCH, merged in order.
    pub fn config(&self, uuid: &str) -> BTreeMap<String, String> {
        self.lock().config.get(uuid).cloned().unwrap_or_default()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls so far had `method`, a path containing `path` and a 2xx answer.
    pub fn succeeded(&self, method: &str, path: &str) -> usize {
        let calls = &self.lock().calls;
        calls.iter().filter(|c| c.method == method && c.path.contains(path) && c.status < 300).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Shared = Arc<Mutex<FakeState>>;

fn record(state: &mut FakeState, method: &str, path: String, body: &Bytes, status: StatusCode) {
    let body = String::from_utf8_lossy(body).into_owned();
    state.calls.push(Call {
        method: method.to_owned(),
        path,
        body,
        status: status.as_u16(),
        refreshed_token: false,
    });
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "id": "invalid", "message": message }))).into_response()
}

/// `POST /v2/add-ons/oauth/token`: JSON `{grant_type, code | refresh_token, client_secret}`.
async fn token(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
    let path = "/v2/add-ons/oauth/token".to_owned();
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = if !is_json || !request.is_object() {
        Err((StatusCode::BAD_REQUEST, "send JSON"))
    } else if request["client_secret"].as_str() != Some(s.client_secret.as_str()) {
        Err((StatusCode::UNAUTHORIZED, "wrong client secret"))
    } else {
        let from_grant = request["grant_type"].as_str() == Some("authorization_code");
        let uuid = match request["grant_type"].as_str() {
            Some("authorization_code") => request["code"]
                .as_str()
                .and_then(|code| s.grants.remove(code))
                .ok_or((StatusCode::BAD_REQUEST, "unknown or used grant")),
            Some("refresh_token") => request["refresh_token"]
                .as_str()
                .and_then(|t| s.refresh_tokens.get(t).cloned())
                .ok_or((StatusCode::BAD_REQUEST, "unknown refresh token")),
            _ => Err((StatusCode::BAD_REQUEST, "unknown grant_type")),
        };
        uuid.map(|uuid| {
            s.next += 1;
            let (access, refresh) = (format!("do-access-{}", s.next), format!("do-refresh-{}", s.next));
            s.tokens.insert(access.clone(), uuid.clone());
            s.refresh_tokens.insert(refresh.clone(), uuid);
            let expires_in = if from_grant { s.grant_lifetime.unwrap_or(28_800) } else { 28_800 };
            json!({ "access_token": access, "refresh_token": refresh, "expires_in": expires_in, "token_type": "bearer" })
        })
    };
    match answer {
        Ok(tokens) => {
            record(&mut s, "POST", path, &body, StatusCode::OK);
            Json(tokens).into_response()
        }
        Err((status, message)) => {
            record(&mut s, "POST", path, &body, status);
            refuse(status, message)
        }
    }
}

/// `PATCH /v2/add-ons/resources/{uuid}/config` with a bearer token of that resource and
/// `{"config": {"VAR": "value"}}`.
async fn update_config(
    State(state): State<Shared>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
    let path = format!("/v2/add-ons/resources/{uuid}/config");
    let bearer =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match (bearer.and_then(|t| s.tokens.get(t)), request["config"].as_object()) {
        (None, _) => Err((StatusCode::UNAUTHORIZED, "no valid token")),
        (Some(owner), _) if *owner != uuid => Err((StatusCode::FORBIDDEN, "the token is another resource's")),
        (_, None) => Err((StatusCode::UNPROCESSABLE_ENTITY, "send {\"config\": {..}}")),
        (_, Some(vars)) if vars.values().any(|v| !v.is_string()) => {
            Err((StatusCode::UNPROCESSABLE_ENTITY, "config values are strings"))
        }
        (_, Some(vars)) => Ok(vars
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect::<Vec<_>>()),
    };
    match answer {
        Ok(vars) => {
            s.config.entry(uuid).or_default().extend(vars);
            record(&mut s, "PATCH", path, &body, StatusCode::OK);
            Json(json!({})).into_response()
        }
        Err((status, message)) => {
            record(&mut s, "PATCH", path, &body, status);
            refuse(status, message)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sso_token_matches_an_independent_digest() {
        // `printf '1700000000:ab12-cd34' | openssl dgst -sha256 -hmac salt`
        assert_eq!(
            super::digitalocean_sso_token("salt", "1700000000", "ab12-cd34"),
            "b793638a43c0d789f7876ddcf27ad0ef4c4f944c2df7cebebf8d7776bf1e0d37"
        );
    }
}
