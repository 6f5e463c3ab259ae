//! The checks, by area. Each returns outcomes named `area.check`; the names are stable.

pub(crate) mod auth;
pub(crate) mod digitalocean;
pub(crate) mod early_answer;
pub(crate) mod input;
pub(crate) mod lifecycle;
pub(crate) mod manifest;
pub(crate) mod plans;

/// An answer's status and body, read once.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) async fn read(response: Option<reqwest::Response>) -> Option<Answer> {
        let response = response?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.ok()?;
        Some(Answer { status, headers, body })
    }

    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// A 4xx whose body is JSON with a `message` string.
    pub(crate) fn is_json_refusal(&self) -> bool {
        (400..500).contains(&self.status) && self.json().is_some_and(|v| v["message"].is_string())
    }

    pub(crate) fn describe(&self) -> String {
        let body: String = self.body.chars().take(120).collect();
        format!("{} {}", self.status, body.replace('\n', " "))
    }
}

/// "no answer" or the status and the start of the body.
pub(crate) fn describe(answer: Option<&Answer>) -> String {
    answer.map_or_else(|| "no answer".to_owned(), Answer::describe)
}
