use std::fmt;
use std::time::Duration;

/// A Platform API or OAuth call that failed. Network errors, 5xx, 408 and 429 are worth
/// retrying; other answers (a refused grant, a 404 for a removed add-on) are not: the job
/// runner fails a job at once on them.
#[derive(Debug, Clone)]
pub struct PlatformError {
    /// The HTTP status, if Heroku answered at all.
    pub status: Option<u16>,
    pub message: String,
    /// How long Heroku asked to wait (`Retry-After` on a 429).
    pub retry_after: Option<Duration>,
}

impl PlatformError {
    pub(crate) fn network(error: &reqwest::Error) -> Self {
        Self { status: None, message: format!("could not reach Heroku: {error}"), retry_after: None }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self { status: None, message: message.into(), retry_after: None }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self.status {
            None => true,
            Some(status) => status == 408 || status == 429 || status >= 500,
        }
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "Heroku answered {status}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PlatformError {}

/// The message of Heroku's error body (`{"id": .., "message": ..}`), or the body itself.
pub(crate) async fn from_response(response: reqwest::Response) -> PlatformError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect());
    PlatformError { status: Some(status), message, retry_after }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16) -> PlatformError {
        PlatformError { status: Some(status), message: String::new(), retry_after: None }
    }

    #[test]
    fn only_answers_that_may_change_are_retried() {
        for status in [408, 429, 500, 502, 503] {
            assert!(answered(status).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!answered(status).is_retryable(), "{status}");
        }
        assert!(PlatformError::config("the registry failed").is_retryable());
    }
}
