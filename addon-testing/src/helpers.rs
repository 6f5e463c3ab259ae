//! Small pieces the tests of every crate share: ids, the time, an HTTP client that shows
//! redirects, forms, cookies, and waiting for another task or process to get somewhere.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Response;

/// A client that does not follow redirects (SSO answers are looked at) and gives up after 30 s.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("the HTTP client builds")
}

/// A fresh uuid-shaped id for each resource a test creates, unique within the process and
/// unlikely to repeat across runs (it starts with the clock's nanoseconds).
pub fn new_uuid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{nanos:08x}-0000-4000-8000-{n:012x}")
}

/// Unix seconds now: the `timestamp` of an SSO form signed now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `application/x-www-form-urlencoded`.
pub fn urlencode(form: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(form).expect("string pairs always encode")
}

/// The `Set-Cookie` header that sets `name`, if any.
pub fn set_cookie<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// `name=value` of a `Set-Cookie` header, for a `Cookie` request header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

/// Whether `condition` comes true within `within`, asking every 5 ms: for waiting on work another
/// task or process does, instead of sleeping a fixed time.
pub async fn eventually(within: Duration, mut condition: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_do_not_repeat_and_have_the_shape_of_one() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_ne!(a, b);
        let lengths: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }

    #[test]
    fn forms_escape_what_a_value_may_hold() {
        let form = [("email", "a+b@example.com".to_owned()), ("app", "my app&co".to_owned())];
        assert_eq!(urlencode(&form), "email=a%2Bb%40example.com&app=my+app%26co");
    }

    #[test]
    fn a_cookie_pair_drops_the_attributes() {
        assert_eq!(cookie_pair("session=abc.def; Path=/; HttpOnly"), "session=abc.def");
    }

    #[tokio::test]
    async fn eventually_says_whether_the_condition_came_true() {
        let mut calls = 0;
        assert!(
            eventually(Duration::from_secs(1), async || {
                calls += 1;
                calls == 3
            })
            .await
        );
        assert!(!eventually(Duration::from_millis(20), async || false).await);
    }
}
