//! The pages a person sees: the front page, each tenant's dashboard behind Heroku SSO, and the
//! page signed-out browsers are sent to. Templates live in `templates/`; askama escapes every
//! value, so log lines (which apps control) can never become markup.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::logbook::{self, DrainStats, LogLine};
use crate::logplex::time;
use crate::plans::{self, PLANS};
use crate::Shared;
use addon_runtime::{AddonError, ResourceState, Session};

/// How many lines the dashboard shows.
pub const RECENT_LINES: u32 = 100;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    title: &'static str,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct Notice {
    title: &'static str,
    message: String,
    link: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard<'a> {
    title: String,
    resource: &'a str,
    uuid: &'a str,
    region: Option<&'a str>,
    plan: &'a str,
    plans: Vec<PlanTile>,
    email: Option<&'a str>,
    /// Whether Heroku vouched for `email` (a user-scoped token); otherwise it is only a label.
    vouched: bool,
    logout_path: &'static str,
    query: &'a str,
    lines: Vec<LineView>,
    limit: u32,
    stats: DrainStats,
}

struct PlanTile {
    name: &'static str,
    current: bool,
}

/// A log line as the table shows it.
struct LineView {
    date: String,
    time: String,
    source: String,
    /// A CSS class: `error`, `warning`, `info` or `debug`.
    level: &'static str,
    text: String,
}

impl From<LogLine> for LineView {
    fn from(line: LogLine) -> Self {
        let stamp = time::format_utc(line.logged_at);
        let (date, time) = stamp.split_once(' ').unwrap_or(("", &stamp));
        // Heroku's router reports failed requests at info severity, with `at=error`.
        let level = match line.severity {
            0..=3 => "error",
            _ if line.text.starts_with("at=error") => "error",
            4 => "warning",
            7 => "debug",
            _ => "info",
        };
        LineView {
            date: date.to_owned(),
            time: time.to_owned(),
            source: format!("{} {}", line.app, line.process),
            level,
            text: line.text,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Reason {
    reason: Option<String>,
}

pub(crate) async fn home() -> Result<Response, AddonError> {
    render(StatusCode::OK, &Home { title: "Search your Heroku app's logs" })
}

/// `/dashboard`: the signed-in resource's own dashboard.
pub(crate) async fn own_dashboard(session: Session) -> Result<Response, AddonError> {
    let location = HeaderValue::from_str(&dashboard_path(session.uuid()))
        .map_err(|_| AddonError::not_found("This add-on resource has no dashboard."))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

pub(crate) fn dashboard_path(uuid: &str) -> String {
    format!("/dashboard/{uuid}")
}

/// `/dashboard/{uuid}?q=..`: the resource's plan, drain statistics and recent lines.
pub(crate) async fn dashboard(
    session: Session,
    State(logs): State<Shared>,
    Path(uuid): Path<String>,
    search: Result<Query<Search>, QueryRejection>,
) -> Result<Response, AddonError> {
    if session.require(&uuid).is_err() {
        let notice = Notice {
            title: "This dashboard belongs to another add-on",
            message:
                "You are signed in to a different Acme Logs resource. To open this one, go to its app's \
                      Resources tab in the Heroku dashboard and click Acme Logs."
                    .to_owned(),
            link: Some(("/dashboard", "Back to the dashboard you are signed in to")),
        };
        return render(StatusCode::FORBIDDEN, &notice);
    }
    let Ok(Query(search)) = search else {
        let notice = Notice {
            title: "That search could not be read",
            message: "The address holds a search that is not valid text. Search again from the dashboard."
                .to_owned(),
            link: Some(("/dashboard", "Back to your dashboard")),
        };
        return render(StatusCode::BAD_REQUEST, &notice);
    };
    let tenant = logs.store().resource(&uuid).await?.filter(|t| t.state == ResourceState::Provisioned);
    let Some(tenant) = tenant else {
        let notice = Notice {
            title: "This add-on no longer exists",
            message: "It was removed from its app, and its logs were deleted with it.".to_owned(),
            link: None,
        };
        return render(StatusCode::NOT_FOUND, &notice);
    };
    // The API refuses longer searches; a page cuts them, as the form does.
    let query: String = search.q.unwrap_or_default().trim().chars().take(crate::MAX_QUERY_CHARS).collect();
    let needle = Some(query.as_str()).filter(|q| !q.is_empty());
    let book = logs.book();
    let plan = plans::plan(&tenant.plan).unwrap_or(&PLANS[0]);
    let lines = book.recent(&tenant.uuid, plan, needle, RECENT_LINES).await.map_err(logbook::unavailable)?;
    let stats = book.stats(&tenant.uuid).await.map_err(logbook::unavailable)?;
    let page = Dashboard {
        title: format!("{} logs", tenant.name.as_deref().unwrap_or("Your")),
        resource: tenant.name.as_deref().unwrap_or("Your add-on"),
        uuid: &tenant.uuid,
        region: tenant.region.as_deref().map(|r| r.rsplit("::").next().unwrap_or(r)),
        plan: &tenant.plan,
        plans: PLANS
            .iter()
            .map(|plan| PlanTile { name: plan.slug, current: plan.slug == tenant.plan })
            .collect(),
        email: session.email(),
        vouched: session.vouched(),
        logout_path: Session::LOGOUT_PATH,
        query: &query,
        lines: lines.into_iter().map(LineView::from).collect(),
        limit: RECENT_LINES,
        stats,
    };
    render(StatusCode::OK, &page)
}

/// `/signed-out?reason=..`: where the runtime sends browsers without a working session.
pub(crate) async fn signed_out(
    reason: Result<Query<Reason>, QueryRejection>,
) -> Result<Response, AddonError> {
    let reason = reason.ok().and_then(|Query(r)| r.reason);
    let (title, lead) = match reason.as_deref() {
        Some("signed-out") => ("You have signed out", "You have signed out of Acme Logs."),
        Some("expired") => ("Your session has expired", "Your Acme Logs session has expired."),
        Some("removed") => {
            ("This add-on has been removed", "This Acme Logs add-on was removed from its app.")
        }
        _ => ("Sign in through Heroku", "You are not signed in to Acme Logs."),
    };
    let notice = Notice {
        title,
        message: format!(
            "{lead} To open your logs, go to your app's Resources tab in the Heroku dashboard and click Acme Logs."
        ),
        link: Some(("/", "About Acme Logs")),
    };
    render(StatusCode::OK, &notice)
}

/// A rendered page that no cache keeps: dashboards show one tenant's logs to one browser.
fn render(status: StatusCode, page: &impl Template) -> Result<Response, AddonError> {
    let html = page.render()?;
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
