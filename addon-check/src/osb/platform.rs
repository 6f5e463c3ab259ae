//! The platform's side of the conversation: every call with the broker's Basic auth and
//! `X-Broker-API-Version: 2.17`, answers read as JSON (or noted as not JSON).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// An answer: its status and body (`Value::Null` when the body was not JSON).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) json: bool,
}

impl Answer {
    /// How the answer reads in a report line: status, and the body cut short.
    pub(crate) fn show(&self) -> String {
        let body = if self.json { self.body.to_string() } else { "(not JSON)".to_owned() };
        let body: String = body.chars().take(160).collect();
        format!("{} {body}", self.status.as_u16())
    }

    /// Whether a refusal is written as the OSB API asks: a JSON object with a `description`.
    pub(crate) fn described(&self) -> bool {
        self.body.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty())
    }
}

pub(crate) struct Platform {
    pub(crate) url: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client: reqwest::Client,
}

/// What a call sends besides its method and path.
#[derive(Default)]
pub(crate) struct Call<'a> {
    pub(crate) body: Option<&'a Value>,
    /// `None`: the broker's own credentials.
    pub(crate) auth: Option<(&'a str, &'a str)>,
    pub(crate) no_auth: bool,
    /// `None`: `2.17`; `Some("")`: no header at all.
    pub(crate) version: Option<&'a str>,
}

impl Platform {
    pub(crate) fn new(url: &str, username: &str, password: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Platform {
            url: url.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            client,
        })
    }

    pub(crate) async fn call(&self, method: Method, path: &str, call: Call<'_>) -> Result<Answer, String> {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.url));
        if !call.no_auth {
            let (user, password) = call.auth.unwrap_or((&self.username, &self.password));
            request = request.basic_auth(user, Some(password));
        }
        match call.version {
            None => request = request.header("X-Broker-API-Version", "2.17"),
            Some("") => {}
            Some(version) => request = request.header("X-Broker-API-Version", version),
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let parsed = serde_json::from_slice::<Value>(&bytes).ok();
        Ok(Answer { status, json: parsed.is_some(), body: parsed.unwrap_or(Value::Null) })
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        self.call(method, path, Call { body, ..Call::default() }).await
    }
}
