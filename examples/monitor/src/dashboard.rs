//! The dashboard a user reaches through Heroku SSO: the resource's plan, its monitors with their
//! latest checks, its plan changes, and a sign-out form. Plain HTML; every value the app or the
//! registry supplied goes through [`escape`], so a monitored URL can never become markup.

use std::fmt::Write as _;
use std::sync::Arc;

use addon_runtime::{escape_html, AddonError, Session};
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::plans::{self, limit_of};
use crate::{monitors, Monitor, Pingly};

/// Where SSO lands.
pub(crate) const PATH: &str = "/dashboard";

pub(crate) fn routes() -> Router<Arc<Pingly>> {
    Router::new().route(PATH, get(dashboard))
}

async fn dashboard(State(pingly): State<Arc<Pingly>>, session: Session) -> Result<Html<String>, AddonError> {
    let record = pingly
        .store
        .resource(session.uuid())
        .await?
        .ok_or_else(|| AddonError::not_found("This Pingly add-on no longer exists."))?;
    let monitors = monitors::list(&pingly.store, &record.uuid).await?;
    let changes = monitors::plan_changes(&pingly.store, &record.uuid).await?;
    let mut rows = String::new();
    for monitor in &monitors {
        rows.push_str(&row(monitor));
    }
    if monitors.is_empty() {
        rows.push_str("<tr><td colspan=\"4\" class=\"empty\">No monitors yet: add one with <code>POST $PINGLY_URL/monitors</code>.</td></tr>");
    }
    let mut history = String::new();
    for change in changes.iter().rev().take(5) {
        let _ = write!(
            history,
            "<li>{} → {}: {}</li>",
            escape_html(&change.from_plan),
            escape_html(&change.to_plan),
            if change.accepted { "accepted" } else { "refused (too many monitors)" }
        );
    }
    let email =
        session.email().map(|e| format!("<span class=\"who\">{}</span>", escape_html(e))).unwrap_or_default();
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pingly</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#1d2330}}\
         table{{width:100%;border-collapse:collapse}}td,th{{text-align:left;padding:.4rem;border-bottom:1px solid #e4e7f0}}\
         .up{{color:#1f9d6a}}.down{{color:#d4443a}}.empty,.who{{color:#667089}}header{{display:flex;gap:1rem;align-items:center}}\
         header h1{{flex:1}}</style></head><body>\
         <header><h1>Pingly</h1>{email}<form method=\"post\" action=\"{logout}\"><button type=\"submit\" id=\"sign-out\">Sign out</button></form></header>\
         <p>Add-on <code>{uuid}</code> on the <strong id=\"plan\">{plan}</strong> plan: \
         <span id=\"usage\">{count} of {limit}</span>.</p>\
         <table><thead><tr><th>URL</th><th>Status</th><th>Latency</th><th>Checked</th></tr></thead><tbody>{rows}</tbody></table>\
         {history}</body></html>",
        logout = Session::LOGOUT_PATH,
        uuid = escape_html(&record.uuid),
        plan = escape_html(&record.plan),
        count = monitors.len(),
        limit = plans::monitors(limit_of(&record.plan).into()),
        history = if history.is_empty() { String::new() } else { format!("<h2>Plan changes</h2><ul>{history}</ul>") },
    )))
}

fn row(monitor: &Monitor) -> String {
    let (status, latency, checked) = match &monitor.last_check {
        None => ("<span>not checked yet</span>".to_owned(), String::new(), String::new()),
        Some(check) => {
            let status = match (check.up(), check.status) {
                (_, 0) => "<span class=\"down\">down (no answer)</span>".to_owned(),
                (true, code) => format!("<span class=\"up\">up ({code})</span>"),
                (false, code) => format!("<span class=\"down\">down ({code})</span>"),
            };
            (status, format!("{} ms", check.latency_ms), seconds_ago(check.checked_at))
        }
    };
    format!(
        "<tr class=\"monitor\"><td><code>{}</code></td><td>{status}</td><td>{latency}</td><td>{checked}</td></tr>",
        escape_html(&monitor.url)
    )
}

/// "12 s ago", from unix microseconds.
fn seconds_ago(micros: i64) -> String {
    let seconds = (monitors::now_micros() - micros).max(0) / 1_000_000;
    format!("{seconds} s ago")
}
