//! What a request without a working session gets: JSON for programs, and for a browser a page
//! or a redirect, as the vendor chooses with [`App::with_signed_out`](crate::App::with_signed_out).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::base::answer::{AddonError, Error};

/// Where a browser goes when it has no working session (never signed in, cookie expired or
/// tampered with, signed out, resource removed) and after signing out.
///
/// Only requests that prefer HTML to JSON in their `Accept` header (a browser opening a page)
/// are treated as browsers; every other client always gets `401` with `{"message": ...}`, so an
/// API behind the same session keeps speaking JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignedOut(Target);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Target {
    #[default]
    Page,
    Redirect(String),
    Json,
}

impl SignedOut {
    /// The default: browsers get a small page (status 401, or 200 after signing out) that says
    /// what happened and how to come back: through the Heroku dashboard.
    pub fn page() -> Self {
        Self(Target::Page)
    }

    /// Browsers are sent with a `303` to `target`, the vendor's own page, with the reason in the
    /// query: `?reason=` `not-signed-in`, `expired`, `signed-out` or `removed`. The page must not
    /// itself need a session.
    ///
    /// `target` is a path starting with `/` or an `http(s)://` URL; anything else is refused here,
    /// at start-up, rather than at a user's first visit.
    pub fn redirect(target: impl Into<String>) -> Result<Self, Error> {
        let target = target.into();
        let shaped = (target.starts_with('/') && !target.starts_with("//"))
            || target.starts_with("https://")
            || target.starts_with("http://");
        if !shaped || HeaderValue::from_str(&target).is_err() {
            return Err(Error::Config(format!(
                "the signed-out page `{target}` must be a path starting with `/` or an http(s) URL"
            )));
        }
        Ok(Self(Target::Redirect(target)))
    }

    /// Every client, browsers too, gets `401` with `{"message": ...}` (and `204` after signing out).
    pub fn json() -> Self {
        Self(Target::Json)
    }

    /// The answer to a request whose session did not work.
    pub(crate) fn refuse(&self, why: Why, headers: &HeaderMap, product: &str) -> Response {
        let mut response = match (&self.0, prefers_html(headers)) {
            (Target::Page, true) => {
                let refusal = AddonError::signed_out(why.message());
                (refusal.status(), Html(page(product, why.heading(), refusal.message()))).into_response()
            }
            (Target::Redirect(target), true) => see_other(target, why),
            _ => AddonError::signed_out(why.message()).into_response(),
        };
        no_store(&mut response);
        response
    }

    /// The answer to a sign-out: the page or redirect for browsers, `204` for everyone else.
    pub(crate) fn signed_out(&self, headers: &HeaderMap, product: &str) -> Response {
        let why = Why::SignedOut;
        let mut response = match (&self.0, prefers_html(headers)) {
            (Target::Page, true) => Html(page(product, why.heading(), why.message())).into_response(),
            (Target::Redirect(target), true) => see_other(target, why),
            _ => StatusCode::NO_CONTENT.into_response(),
        };
        no_store(&mut response);
        response
    }
}

/// Why a request has no working session. The user learns which, in words; the cookie's contents
/// never appear in an answer or a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    NotSignedIn,
    /// Tampered with, signed with another key, or not a session cookie at all.
    Invalid,
    Expired,
    SignedOut,
    /// The resource was deprovisioned (or is unknown to this registry).
    Removed,
    /// The resource is suspended by its marketplace; the session works again after reactivation.
    Suspended,
}

impl Why {
    fn reason(self) -> &'static str {
        match self {
            Why::NotSignedIn | Why::Invalid => "not-signed-in",
            Why::Expired => "expired",
            Why::SignedOut => "signed-out",
            Why::Removed => "removed",
            Why::Suspended => "suspended",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Why::NotSignedIn | Why::Invalid => "You are not signed in",
            Why::Expired => "Your session has expired",
            Why::SignedOut => "You have signed out",
            Why::Removed => "This add-on has been removed",
            Why::Suspended => "This add-on is suspended",
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Why::NotSignedIn | Why::Invalid => {
                "You are not signed in. Open this add-on from your app's Resources tab in the Heroku dashboard."
            }
            Why::Expired => {
                "Your session has expired. Open this add-on again from your app's Resources tab in the Heroku dashboard."
            }
            Why::SignedOut => {
                "You have signed out. To come back, open this add-on from your app's Resources tab in the Heroku dashboard."
            }
            Why::Removed => {
                "This add-on resource has been removed from its app, so there is nothing to sign in to any more."
            }
            Why::Suspended => {
                "This add-on is suspended by its marketplace (for example, for an unpaid bill); its data is kept. \
                 It opens again once the account is reactivated."
            }
        }
    }
}

/// Whether the client wants HTML more than JSON: a browser opening a page sends
/// `text/html,...,*/*;q=0.8`, `fetch` sends `*/*`, API clients name JSON.
fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = 0.0_f32;
    let mut json = 0.0_f32;
    for range in
        headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','))
    {
        let mut params = range.split(';');
        let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            "application/json" => json = json.max(q),
            _ => {}
        }
    }
    html > 0.0 && html > json
}

fn see_other(target: &str, why: Why) -> Response {
    let separator = if target.contains('?') { '&' } else { '?' };
    let location = format!("{target}{separator}reason={}", why.reason());
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        // `SignedOut::redirect` checked the target; this only guards the reason's append.
        Err(_) => AddonError::signed_out(why.message()).into_response(),
    }
}

/// Answers about sessions are about one person's browser: never cached, never shared.
fn no_store(response: &mut Response) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The built-in page: the add-on's name, what happened and where to go. No script, no assets.
fn page(product: &str, heading: &str, message: &str) -> String {
    let (product, heading, message) = (escape_html(product), escape_html(heading), escape_html(message));
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{heading} · {product}</title><style>{STYLE}</style></head>\
         <body><main><p class=\"product\">{product}</p><h1>{heading}</h1><p>{message}</p></main></body></html>"
    )
}

const STYLE: &str =
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f9;\
color:#1f2330;display:flex;min-height:100vh;align-items:center;justify-content:center}\
main{background:#fff;border:1px solid #e3e5ee;border-radius:12px;padding:2rem 2.5rem;max-width:30rem;\
box-shadow:0 4px 24px rgba(31,35,48,.06)}h1{font-size:1.35rem;margin:.25rem 0 1rem}\
.product{margin:0;color:#6b7085;font-size:.85rem;text-transform:uppercase;letter-spacing:.08em}\
p{line-height:1.5}";

/// Text into HTML, for pages written without a template engine: the five characters that could
/// open markup or close an attribute value become entities.
///
/// ```
/// assert_eq!(addon_runtime::escape_html("<b title='x'>&</b>"), "&lt;b title=&#39;x&#39;&gt;&amp;&lt;/b&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_are_told_apart_from_programs() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,\
                        image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(prefers_html(&accept(chromium)));
        assert!(prefers_html(&accept("application/json;q=0.5, text/html")));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("text/html, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
    }

    #[test]
    fn redirect_targets_are_checked_at_start_up() {
        assert!(SignedOut::redirect("/signed-out").is_ok());
        assert!(SignedOut::redirect("https://acme.example/bye").is_ok());
        for bad in ["signed-out", "//evil.example", "javascript:alert(1)", "/a\nb"] {
            assert!(SignedOut::redirect(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn redirects_carry_the_reason() {
        let policy = SignedOut::redirect("/bye?from=x").unwrap();
        let response = policy.refuse(Why::Expired, &accept("text/html"), "Acme");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], "/bye?from=x&reason=expired");
        let response = policy.refuse(Why::Expired, &accept("application/json"), "Acme");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn the_page_escapes_the_product_name() {
        let html = page("<Acme & Co>", "h", "m");
        assert!(html.contains("&lt;Acme &amp; Co&gt;") && !html.contains("<Acme"));
    }
}
