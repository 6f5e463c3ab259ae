//! The pages a person sees: a front page, and the tenant's dashboard behind Heroku SSO.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::{Shared, PLANS};
use addon_runtime::{AddonError, ResourceState, Session};

/// The example's own routes, to pass to `App::with_routes`.
pub fn routes(logs: Shared) -> Router {
    Router::new().route("/", get(front)).route("/dashboard", get(dashboard)).with_state(logs)
}

async fn front() -> Html<String> {
    Html(page(
        "Acme Logs",
        "<h1>Acme Logs</h1><p>Search and keep your Heroku app's logs.</p>\
         <p>Add it to an app with <code>heroku addons:create acme-logs</code>, then open it from the app's \
         Resources tab.</p>",
    ))
}

async fn dashboard(State(logs): State<Shared>, session: Session) -> Result<Response, AddonError> {
    let tenant = logs.store().resource(session.uuid()).await?;
    let Some(tenant) = tenant.filter(|t| t.state == ResourceState::Provisioned) else {
        return Ok((
            StatusCode::NOT_FOUND,
            Html(page("Not found", "<h1>This add-on no longer exists.</h1>")),
        )
            .into_response());
    };
    let who = session
        .email()
        .map_or_else(|| "Signed in through Heroku".to_owned(), |e| format!("Signed in as {}", escape(e)));
    let plans: String = PLANS
        .iter()
        .map(|p| {
            let class = if *p == tenant.plan { " class=\"current\"" } else { "" };
            format!("<li{class}>{}</li>", escape(p))
        })
        .collect();
    let body = format!(
        "<header><h1>Acme Logs</h1><p class=\"who\">{who}</p></header>\
         <section><h2>Resource</h2><dl><dt>Add-on id</dt><dd><code>{uuid}</code></dd>\
         <dt>Plan</dt><dd class=\"plan\">{plan}</dd></dl><ul class=\"plans\">{plans}</ul></section>\
         <section><h2>Recent logs</h2><p class=\"empty\">No log lines yet. Lines from your app's log drain \
         appear here within seconds.</p></section>",
        uuid = escape(&tenant.uuid),
        plan = escape(&tenant.plan),
    );
    Ok(Html(page("Acme Logs dashboard", &body)).into_response())
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7fb;color:#1d2330;margin:0}\
main{max-width:52rem;margin:2rem auto;padding:0 1rem}header{display:flex;justify-content:space-between;\
align-items:baseline}section{background:#fff;border:1px solid #e1e4ee;border-radius:8px;padding:1rem 1.5rem;\
margin:1rem 0}dt{font-weight:600}dd{margin:0 0 .5rem}.plans{display:flex;gap:.5rem;list-style:none;padding:0}\
.plans li{border:1px solid #c9cfe0;border-radius:4px;padding:.2rem .6rem}.plans li.current{background:#5a4fcf;\
color:#fff}.who,.empty{color:#5b6275}";

/// Text into HTML: the five characters that could open markup.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
