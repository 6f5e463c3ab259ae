//! The hand-written server acme-logs is measured against: what a careful engineer writes with
//! axum and sqlx for the same endpoints and the same durability, and nothing more.
//!
//! - Basic auth compared in constant time; JSON bodies through serde;
//! - provision idempotent by uuid: the stored answer if there is one, else one
//!   `INSERT .. ON CONFLICT DO NOTHING` of the resource with its answer, committed before answering;
//! - plan change: the stored plan read, a no-op answer for the same plan, else one `UPDATE`;
//! - SSO: the v3 (`resource_token`) or legacy (`token`) sha1 in constant time, a ±300 s window,
//!   a registry lookup, an HMAC-signed session cookie, a 303;
//! - a page behind the cookie: the HMAC checked in constant time, its expiry, one query (resource
//!   live, session not ended), a 303 to the resource's page.
//!
//! SQLite in WAL mode with `synchronous = FULL` (every commit fsynced, as the framework's
//! registry), or PostgreSQL with its defaults.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use subtle::ConstantTimeEq;

const COOKIE: &str = "bench_session";
const SESSION_SECS: u64 = 3600;
const SSO_WINDOW: u64 = 300;

struct Shared {
    pool: AnyPool,
    /// The whole `Authorization` header value the server accepts.
    authorization: Vec<u8>,
    salt: String,
    key: Vec<u8>,
    config_var: String,
}

/// Serves until killed. `DATABASE_URL` (sqlite:// or postgres://), `PORT`, `BENCH_ID`,
/// `BENCH_PASSWORD`, `BENCH_SALT`, `BENCH_CONFIG_VAR`.
pub async fn serve() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let url = var("DATABASE_URL");
    let pool = open(&url).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        var("BENCH_ID"),
        var("BENCH_PASSWORD")
    ));
    let shared = Arc::new(Shared {
        pool,
        authorization: format!("Basic {basic}").into_bytes(),
        salt: var("BENCH_SALT"),
        key: random_key(),
        config_var: var("BENCH_CONFIG_VAR"),
    });
    let router = Router::new()
        .route("/heroku/resources", post(provision))
        .route("/heroku/resources/{id}", put(plan_change))
        .route("/sso/login", post(sso))
        .route("/dashboard", get(page))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", var("PORT").parse::<u16>().expect("PORT")))
        .await
        .expect("the port");
    axum::serve(listener, router).await.expect("serving");
}

async fn open(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 4 } else { 10 })
        // The framework's pool policy, so neither side pays a ping the other skips: a
        // connection is pinged only after a second idle, and never on SQLite.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if !sqlite && meta.idle_for >= std::time::Duration::from_secs(1) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("the database");
    for statement in [
        "CREATE TABLE IF NOT EXISTS bench_resources (uuid TEXT PRIMARY KEY, plan TEXT NOT NULL, \
         state TEXT NOT NULL, answer TEXT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_ended_sessions (sid TEXT PRIMARY KEY, ended_at BIGINT NOT NULL)",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("the schema");
    }
    pool
}

/// 32 bytes from the operating system: a session id must not be guessable, here as in the
/// framework (which draws its session ids the same way).
fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source");
    key
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({ "message": text }).to_string())
        .into_response()
}

fn unavailable(error: sqlx::Error) -> Response {
    eprintln!("database: {error}");
    message(StatusCode::SERVICE_UNAVAILABLE, "try again")
}

impl Shared {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let given = headers.get(header::AUTHORIZATION).map_or(&[][..], HeaderValue::as_bytes);
        bool::from(given.ct_eq(&self.authorization))
    }

    fn sign(&self, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(payload.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[derive(Deserialize)]
struct ProvisionBody {
    uuid: String,
    plan: String,
}

async fn provision(State(app): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !app.authorized(&headers) {
        return message(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let Ok(request) = serde_json::from_slice::<ProvisionBody>(&body) else {
        return message(StatusCode::UNPROCESSABLE_ENTITY, "a provision request needs a uuid and a plan");
    };
    let stored = |pool: AnyPool, uuid: String| async move {
        sqlx::query_as::<_, (String,)>("SELECT answer FROM bench_resources WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(&pool)
            .await
    };
    match stored(app.pool.clone(), request.uuid.clone()).await {
        Ok(Some((answer,))) => return json(answer),
        Ok(None) => {}
        Err(e) => return unavailable(e),
    }
    let config = serde_json::json!({
        &app.config_var: format!("https://logs.example.com/api/tenants/{}", request.uuid)
    });
    let answer = serde_json::json!({ "id": request.uuid, "config": config }).to_string();
    let inserted = sqlx::query(
        "INSERT INTO bench_resources (uuid, plan, state, answer, created_at) \
         VALUES ($1, $2, 'provisioned', $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&request.uuid)
    .bind(&request.plan)
    .bind(&answer)
    .bind(now() as i64)
    .execute(&app.pool)
    .await;
    match inserted {
        Ok(done) if done.rows_affected() == 1 => json(answer),
        // A duplicate won the race: its answer is the answer.
        Ok(_) => match stored(app.pool.clone(), request.uuid).await {
            Ok(Some((answer,))) => json(answer),
            Ok(None) => message(StatusCode::SERVICE_UNAVAILABLE, "try again"),
            Err(e) => unavailable(e),
        },
        Err(e) => unavailable(e),
    }
}

fn json(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(Deserialize)]
struct PlanBody {
    plan: String,
}

async fn plan_change(
    State(app): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !app.authorized(&headers) {
        return message(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let Ok(request) = serde_json::from_slice::<PlanBody>(&body) else {
        return message(StatusCode::UNPROCESSABLE_ENTITY, "a plan change request needs a plan");
    };
    let current = sqlx::query_as::<_, (String,)>(
        "SELECT plan FROM bench_resources WHERE uuid = $1 AND state = 'provisioned'",
    )
    .bind(&id)
    .fetch_optional(&app.pool)
    .await;
    match current {
        Ok(Some((plan,))) if plan == request.plan => {
            message(StatusCode::OK, &format!("The add-on is already on the {plan} plan."))
        }
        Ok(Some(_)) => {
            let updated = sqlx::query("UPDATE bench_resources SET plan = $1 WHERE uuid = $2")
                .bind(&request.plan)
                .bind(&id)
                .execute(&app.pool)
                .await;
            match updated {
                Ok(_) => message(StatusCode::OK, "plan changed"),
                Err(e) => unavailable(e),
            }
        }
        Ok(None) => message(StatusCode::NOT_FOUND, "no such resource"),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct SsoForm {
    resource_id: Option<String>,
    resource_token: Option<String>,
    id: Option<String>,
    token: Option<String>,
    timestamp: String,
}

async fn sso(State(app): State<Arc<Shared>>, Form(form): Form<SsoForm>) -> Response {
    let forbidden = || message(StatusCode::FORBIDDEN, "this sign-in link is not valid");
    let Ok(timestamp) = form.timestamp.trim().parse::<u64>() else { return forbidden() };
    let now = now();
    if timestamp.saturating_add(SSO_WINDOW) < now || timestamp > now.saturating_add(SSO_WINDOW) {
        return forbidden();
    }
    let (uuid, token) = match (form.resource_id, form.resource_token, form.id, form.token) {
        (Some(uuid), Some(token), _, _) | (_, _, Some(uuid), Some(token)) => (uuid, token),
        _ => return forbidden(),
    };
    let expected = hex(&Sha1::digest(format!("{uuid}:{}:{}", app.salt, form.timestamp).as_bytes()));
    if !bool::from(token.trim().to_ascii_lowercase().as_bytes().ct_eq(expected.as_bytes())) {
        return forbidden();
    }
    let live = sqlx::query_as::<_, (String,)>("SELECT state FROM bench_resources WHERE uuid = $1")
        .bind(&uuid)
        .fetch_optional(&app.pool)
        .await;
    match live {
        Ok(Some((state,))) if state == "provisioned" => {}
        Ok(_) => return message(StatusCode::NOT_FOUND, "no such resource"),
        Err(e) => return unavailable(e),
    }
    let sid = hex(&random_key()[..16]);
    let payload = format!("{uuid}.{sid}.{}", now + SESSION_SECS);
    let cookie = format!("{COOKIE}={payload}.{}; Path=/; HttpOnly; SameSite=Lax", app.sign(&payload));
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/dashboard"));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn page(State(app): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let signed_out = || (StatusCode::SEE_OTHER, [(header::LOCATION, "/signed-out")]).into_response();
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')));
    let Some((payload, mac)) = cookie.and_then(|c| c.rsplit_once('.')) else { return signed_out() };
    if !bool::from(app.sign(payload).as_bytes().ct_eq(mac.as_bytes())) {
        return signed_out();
    }
    let mut parts = payload.splitn(3, '.');
    let (Some(uuid), Some(sid), Some(expiry)) = (parts.next(), parts.next(), parts.next()) else {
        return signed_out();
    };
    if expiry.parse::<u64>().map_or(true, |expiry| expiry < now()) {
        return signed_out();
    }
    let standing = sqlx::query_as::<_, (String, i64)>(
        "SELECT state, (SELECT COUNT(*) FROM bench_ended_sessions WHERE sid = $2) \
         FROM bench_resources WHERE uuid = $1",
    )
    .bind(uuid)
    .bind(sid)
    .fetch_optional(&app.pool)
    .await;
    match standing {
        Ok(Some((state, 0))) if state == "provisioned" => {
            let location = format!("/dashboard/{uuid}");
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Ok(_) => signed_out(),
        Err(e) => unavailable(e),
    }
}
