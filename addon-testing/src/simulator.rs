//! Heroku's side of the Partner API, for tests: the requests Heroku sends, sent the way Heroku
//! sends them (Basic auth, the v3 `Accept` header, v3 and legacy bodies, SSO forms signed with
//! every token generation).

use addon_manifest::{Manifest, TokenKind};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::{client, legacy_form, resource_token_form, urlencode, user_scoped_form};

/// Heroku calling one add-on: its base URL, the manifest's id, password and SSO salt.
#[derive(Clone)]
pub struct Simulator {
    /// The origin the add-on listens on, such as `http://127.0.0.1:5000`.
    pub url: String,
    /// The client every request goes through: [`client()`](crate::client), redirects not followed.
    pub client: reqwest::Client,
    /// The Basic auth user: the add-on's id.
    pub user: String,
    password: String,
    salt: String,
    base_path: String,
    sso_path: String,
}

impl Simulator {
    /// Heroku calling `url` with these credentials, on the default paths.
    pub fn new(url: impl Into<String>, id: &str, password: &str, sso_salt: &str) -> Self {
        Simulator {
            url: url.into().trim_end_matches('/').to_owned(),
            client: client(),
            user: id.to_owned(),
            password: password.to_owned(),
            salt: sso_salt.to_owned(),
            base_path: addon_manifest::DEFAULT_BASE_PATH.to_owned(),
            sso_path: addon_manifest::DEFAULT_SSO_PATH.to_owned(),
        }
    }

    /// Heroku as a manifest describes it, at the manifest's test URLs.
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, String> {
        let test = manifest.api.test.as_ref().ok_or("the manifest has no `api.test` URLs")?;
        let (origin, base_path) = split_url(&test.base_url)?;
        let (sso_origin, sso_path) = split_url(&test.sso_url)?;
        if origin != sso_origin {
            return Err("`api.test.base_url` and `api.test.sso_url` are on different hosts".into());
        }
        let mut simulator =
            Simulator::new(origin, &manifest.id, &manifest.api.password, &manifest.api.sso_salt);
        simulator.base_path = base_path;
        simulator.sso_path = sso_path;
        Ok(simulator)
    }

    /// The same add-on at another origin (a port chosen at run time).
    pub fn at(mut self, url: impl Into<String>) -> Self {
        self.url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The path of the provisioning API, such as `/heroku/resources`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// `POST {base}` with Heroku's credentials and headers.
    pub async fn provision(&self, body: &Value) -> Response {
        self.heroku(Method::POST, "")
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the add-on answers")
    }

    /// `PUT {base}/{id}`.
    pub async fn plan_change(&self, id: &str, plan: &str) -> Response {
        let body = json!({ "plan": plan, "heroku_id": "app123@heroku.com" });
        self.heroku(Method::PUT, &format!("/{id}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the add-on answers")
    }

    /// `DELETE {base}/{id}`.
    pub async fn deprovision(&self, id: &str) -> Response {
        self.heroku(Method::DELETE, &format!("/{id}")).send().await.expect("the add-on answers")
    }

    /// A request to `{base}{path}` with Heroku's credentials and the v3 `Accept` header; the
    /// caller adds the body and its content type.
    pub fn heroku(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}{path}", self.url, self.base_path))
            .basic_auth(&self.user, Some(&self.password))
            .header("Accept", "application/vnd.heroku-addons+json; version=3")
    }

    /// Posts an SSO form to the SSO URL, as the browser does after Heroku's dashboard page.
    pub async fn sso_post(&self, form: &[(&str, String)]) -> Response {
        self.client
            .post(self.sso_url())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(urlencode(form))
            .send()
            .await
            .expect("the add-on answers")
    }

    /// The full URL SSO forms are posted to.
    pub fn sso_url(&self) -> String {
        format!("{}{}", self.url, self.sso_path)
    }

    /// An SSO form for a resource signed with `kind`, at `timestamp` (Unix seconds).
    pub fn sso_form(&self, kind: TokenKind, uuid: &str, timestamp: u64) -> Vec<(&'static str, String)> {
        match kind {
            TokenKind::Resource => resource_token_form(uuid, &self.salt, timestamp),
            TokenKind::UserScoped => {
                user_scoped_form(uuid, &self.salt, timestamp, "user-1", "user@example.com")
            }
            TokenKind::Legacy => legacy_form(uuid, &self.salt, timestamp),
        }
    }

    /// The page Heroku's dashboard serves to sign a user in: a form that submits itself.
    pub fn auto_submit_page(&self, form: &[(&str, String)]) -> String {
        let inputs: String = form
            .iter()
            .map(|(name, value)| {
                format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value))
            })
            .collect();
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signing in…</title></head>\
             <body><form method=\"POST\" action=\"{}\">{inputs}<noscript><button>Continue</button></noscript>\
             </form><script>document.forms[0].submit()</script></body></html>",
            escape(&self.sso_url())
        )
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("url", &self.url).field("user", &self.user).finish_non_exhaustive()
    }
}

fn split_url(url: &str) -> Result<(String, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("`{url}` is not a URL"))?;
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    Ok((format!("{scheme}://{host}"), format!("/{path}").trim_end_matches('/').to_owned()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A v3 provision body with every documented field.
pub fn v3_body(uuid: &str, plan: &str) -> Value {
    json!({
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"),
        "name": "acme-inc-primary-logs",
        "oauth_grant": {"code": "01234567-89ab-cdef-0123-456789abcdef", "expires_at": "2016-03-03T18:01:31-0800", "type": "authorization_code"},
        "options": {"foo": "bar", "baz": "true"},
        "plan": plan,
        "region": "amazon-web-services::us-east-1",
        "uuid": uuid,
        "log_input_url": "https://token:t.01234567@1.us.logplex.io/logs",
        "log_drain_token": format!("d.{uuid}")
    })
}

/// A body as older clients send it: `heroku_id`, `logplex_token`, no `name`, no grant.
pub fn legacy_body(uuid: &str, plan: &str) -> Value {
    json!({
        "heroku_id": "app123@heroku.com", "plan": plan, "callback_url": "https://api.heroku.com/vendor/apps/app123",
        "logplex_token": null, "options": {}, "region": "amazon-web-services::us-east-1", "uuid": uuid
    })
}
