//! A resource's life as Heroku drives it: provision (v3, legacy, unknown fields, asynchronous),
//! re-delivery, sign-in with every token kind, plan change, deprovision, and what must be refused
//! along the way.

use std::time::Duration;

use addon_manifest::rules;
use addon_manifest::TokenKind;
use addon_testing::{cookie_pair, legacy_body, new_uuid, now, v3_body};
use reqwest::Method;
use serde_json::{json, Value};

use super::{describe, Answer};
use crate::{Context, Outcome};

/// How long an asynchronous provision may take to call the fake Platform API back.
const ASYNC_PATIENCE: Duration = Duration::from_secs(30);

/// The checks that need a resource, so a plan to provision it with, in the order they run.
fn needing_a_plan(context: &Context) -> Vec<&'static str> {
    let mut checks = vec!["provision.v3", "provision.config"];
    if context.requires("syslog_drain") {
        checks.push("provision.log_drain");
    }
    checks.extend([
        "idempotency.replay",
        "provision.legacy",
        "provision.unknown_fields",
        "idempotency.concurrent",
        "sso.resource_token",
        "sso.user_scoped_token",
        "sso.legacy_token",
        "sso.landing",
        "sso.wrong_token",
        "sso.stale",
        "sso.future",
        "sso.cross_resource",
        "plan_change.change",
        "plan_change.same_plan",
        "plan_change.unknown",
        "deprovision.ok",
        "deprovision.again",
        "idempotency.gone_after_deprovision",
        "sso.deprovisioned",
    ]);
    checks
}

pub(crate) async fn check(context: &Context) -> Vec<Outcome> {
    if context.plans.is_empty() {
        let why = "no plan to provision with (see checker.plans): pass --plans";
        let mut out: Vec<Outcome> =
            needing_a_plan(context).into_iter().map(|c| Outcome::skip(c, why)).collect();
        out.push(deprovision_unknown(context).await);
        return out;
    }
    let mut out = Vec::new();
    let main = new_uuid();
    let provisioned =
        provision(context, "provision.v3", &body(context, &main, v3_body(&main, context.plan())), &mut out)
            .await;
    if let Some(answer) = &provisioned {
        out.extend(config_outcomes(context, answer));
        out.push(replay(context, &main, answer).await);
    }
    let legacy = new_uuid();
    provision(
        context,
        "provision.legacy",
        &body(context, &legacy, legacy_body(&legacy, context.plan())),
        &mut out,
    )
    .await;
    let extra = new_uuid();
    let mut unknown = v3_body(&extra, context.plan());
    unknown["a_field_heroku_adds_later"] = json!({"nested": [1, 2]});
    provision(context, "provision.unknown_fields", &body(context, &extra, unknown), &mut out).await;
    out.push(concurrent_duplicates(context).await);

    if provisioned.is_some() {
        out.extend(sso(context, &main, &legacy).await);
        out.extend(plan_changes(context, &main).await);
        out.extend(deprovision(context, &main).await);
    }
    for uuid in [legacy, extra] {
        let _ = context.heroku.deprovision(&uuid).await;
    }
    out
}

/// Adds a grant the fake will honour, when the fake runs; otherwise the body as it is.
fn body(context: &Context, uuid: &str, mut body: Value) -> Value {
    if let Some(fake) = &context.fake {
        body["oauth_grant"] = json!({"code": fake.grant(uuid), "expires_at": "2099-01-01T00:00:00-0000", "type": "authorization_code"});
    }
    body
}

/// Provisions and judges the answer: 200, or 202 finished through the Platform API.
async fn provision(context: &Context, check: &str, body: &Value, out: &mut Vec<Outcome>) -> Option<Answer> {
    let uuid = body["uuid"].as_str().unwrap_or_default().to_owned();
    context.step(check);
    let request = context
        .heroku
        .heroku(Method::POST, "")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    let answer = Answer::read(context.timed(check, request).await).await;
    let fix = "answer a valid provision with 200 and {\"id\", \"config\"} (or 202 and finish it through the Platform API)";
    match answer.as_ref().map(|a| (a.status, a.json())) {
        Some((200, Some(json))) if json["id"].is_string() => out.push(Outcome::pass(check, "200 with an id")),
        Some((202, Some(json))) if json["id"].is_string() => {
            out.push(Outcome::pass(check, "202 with an id"));
            if check == "provision.v3" {
                out.push(asynchronous(context, &uuid).await);
            }
        }
        _ => {
            out.push(Outcome::fail(check, describe(answer.as_ref()), fix));
            return None;
        }
    }
    answer
}

/// A 202 must end with the config set and the provision action called, on the fake.
async fn asynchronous(context: &Context, uuid: &str) -> Outcome {
    let Some(fake) = &context.fake else {
        return Outcome::warn(
            "provision.async",
            "the add-on answered 202; its completion was not followed",
            "run with --heroku-port and start the add-on with HEROKU_API_URL/HEROKU_OAUTH_URL on that port",
        );
    };
    if fake.wait_for_state(uuid, "provisioned", ASYNC_PATIENCE).await {
        let config = fake.config(uuid);
        Outcome::expect(
            "provision.async",
            !config.is_empty(),
            format!("provisioned through the Platform API with {} config vars", config.len()),
            "set the config with PATCH /addons/{uuid}/config before POST /addons/{uuid}/actions/provision",
        )
    } else {
        Outcome::fail(
            "provision.async",
            format!("no provision action within {} s", ASYNC_PATIENCE.as_secs()),
            "exchange the grant, PATCH the config, then POST /addons/{uuid}/actions/provision",
        )
    }
}

/// Only declared config vars, string values, `*_URL` values that are URLs, and a log drain
/// when the manifest requires `syslog_drain`.
fn config_outcomes(context: &Context, answer: &Answer) -> Vec<Outcome> {
    let Some(json) = answer.json() else { return Vec::new() };
    if answer.status == 202 {
        return Vec::new();
    }
    let declared = &context.manifest.api.config_vars;
    let mut problems = Vec::new();
    match json["config"].as_object() {
        Some(config) => {
            for (name, value) in config {
                problems.extend(rules::check_declared(name, declared).err());
                match value.as_str() {
                    None => problems.push(format!("`{name}` is not a string")),
                    Some(value) => problems.extend(rules::check_config_value(name, value).err()),
                }
            }
        }
        None => problems.push("no `config` object".to_owned()),
    }
    let mut out = vec![if problems.is_empty() {
        Outcome::pass(
            "provision.config",
            format!("{} declared string vars", json["config"].as_object().map_or(0, |c| c.len())),
        )
    } else {
        Outcome::fail(
            "provision.config",
            problems.join("; "),
            "return only the config vars the manifest declares, as strings",
        )
    }];
    if context.requires("syslog_drain") {
        let drain = json["log_drain_url"].as_str().unwrap_or_default();
        // The checker drives add-ons on this machine, in development, where the runtime lets a
        // plain http:// drain through.
        let checked = rules::check_log_drain_url(drain, true);
        out.push(Outcome::expect(
            "provision.log_drain",
            checked.is_ok(),
            match checked {
                Ok(()) => format!("log_drain_url {drain}"),
                Err(_) if drain.is_empty() => "no log_drain_url".to_owned(),
                Err(message) => message,
            },
            "with `requires = [\"syslog_drain\"]`, return the https:// or syslog:// URL Heroku should drain logs to",
        ));
    }
    out
}

/// The same provision again: the same answer, not a second resource.
async fn replay(context: &Context, uuid: &str, first: &Answer) -> Outcome {
    context.step("idempotency.replay");
    let mut again = v3_body(uuid, context.plan());
    if let (Some(fake), Some(_)) = (&context.fake, again.get("oauth_grant")) {
        again["oauth_grant"] = json!({"code": fake.grant(uuid), "type": "authorization_code"});
    }
    let request = context
        .heroku
        .heroku(Method::POST, "")
        .header("Content-Type", "application/json")
        .body(again.to_string());
    let answer = Answer::read(context.timed("replay", request).await).await;
    let same = answer.as_ref().is_some_and(|a| a.status == first.status && a.json() == first.json());
    Outcome::expect(
        "idempotency.replay",
        same,
        if same {
            "the same status and body".to_owned()
        } else {
            format!("first {}, then {}", first.describe(), describe(answer.as_ref()))
        },
        "Heroku delivers at least once: record the answer per uuid and return it again",
    )
}

/// Twenty identical provisions at once: one resource, one answer.
async fn concurrent_duplicates(context: &Context) -> Outcome {
    context.step("idempotency.concurrent");
    let uuid = new_uuid();
    let body = body(context, &uuid, v3_body(&uuid, context.plan())).to_string();
    // Every request is in flight before any answer is read.
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let request = context.heroku.heroku(Method::POST, "").header("Content-Type", "application/json");
            tokio::spawn(request.body(body.clone()).send())
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(Answer::read(handle.await.ok().and_then(Result::ok)).await);
    }
    let first = answers.first().and_then(Option::as_ref).map(|a| (a.status, a.json()));
    let all_same = answers.iter().all(|a| a.as_ref().map(|a| (a.status, a.json())) == first);
    let ok_status = matches!(first, Some((200 | 202, _)));
    let _ = context.heroku.deprovision(&uuid).await;
    if all_same && !ok_status {
        // Every duplicate was refused alike: that is the provision failing, not the duplicates.
        let answer = answers.first().and_then(Option::as_ref);
        return Outcome::fail(
            "idempotency.concurrent",
            format!("all 20 duplicates refused alike, so duplicates were not tested: {}", describe(answer)),
            format!(
                "the provision itself fails with plan `{}` (see provision.v3): fix that first",
                context.plan()
            ),
        );
    }
    Outcome::expect(
        "idempotency.concurrent",
        all_same,
        if all_same {
            format!("20 duplicates, one answer ({})", first.map_or(0, |f| f.0))
        } else {
            "duplicates got different answers".to_owned()
        },
        "serialize provisions of one uuid (a unique constraint, then replay the recorded answer)",
    )
}

async fn sso(context: &Context, uuid: &str, other: &str) -> Vec<Outcome> {
    let h = &context.heroku;
    let mut out = Vec::new();
    let mut cookie = None;
    for (check, kind) in [
        ("sso.resource_token", TokenKind::Resource),
        ("sso.user_scoped_token", TokenKind::UserScoped),
        ("sso.legacy_token", TokenKind::Legacy),
    ] {
        context.step(check);
        let form = h.sso_form(kind, uuid, now());
        let response = context
            .timed(
                check,
                h.client
                    .post(h.sso_url())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(addon_testing::urlencode(&form)),
            )
            .await;
        let status = response.as_ref().map(|r| r.status().as_u16());
        let session = response
            .as_ref()
            .and_then(|r| r.headers().get("set-cookie"))
            .and_then(|v| v.to_str().ok())
            .map(cookie_pair);
        let location = response
            .as_ref()
            .and_then(|r| r.headers().get("location"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ok = matches!(status, Some(302 | 303)) && session.is_some() && location.is_some();
        out.push(Outcome::expect(
            check,
            ok,
            format!("{} {}", status.map_or("no answer".to_owned(), |s| s.to_string()), location.clone().unwrap_or_default()),
            "verify the token, set a session cookie and redirect with 302 or 303 (not 307, which re-posts the form)",
        ));
        if ok && cookie.is_none() {
            cookie = session.zip(location);
        }
    }
    context.step("sso.landing");
    out.push(match cookie {
        Some((cookie, location)) => match crate::guard::same_origin_location(&h.sso_url(), &location) {
            Ok(url) => {
                let page = Answer::read(
                    context.timed("landing", h.client.get(url.as_str()).header("Cookie", cookie)).await,
                )
                .await;
                Outcome::expect(
                    "sso.landing",
                    page.as_ref().is_some_and(|p| (200..300).contains(&p.status)),
                    format!("GET {url}: {}", describe(page.as_ref()).chars().take(40).collect::<String>()),
                    "the page the SSO redirect leads to must answer 2xx to the session cookie",
                )
            }
            Err(message) => Outcome::fail(
                "sso.landing",
                message,
                "redirect to a page of the add-on's own origin, such as `/dashboard`",
            ),
        },
        None => Outcome::fail(
            "sso.landing",
            "no successful sign-in to follow",
            "fix the sso.* token checks first",
        ),
    });
    let fix = "refuse it with 403 before it reaches your code";
    let mut wrong = h.sso_form(TokenKind::Resource, uuid, now());
    wrong[1].1 = "0".repeat(40);
    let mut cross = h.sso_form(TokenKind::Resource, other, now());
    cross[0].1 = uuid.to_owned();
    for (check, form) in [
        ("sso.wrong_token", wrong),
        ("sso.stale", h.sso_form(TokenKind::Resource, uuid, now() - 10 * 60)),
        ("sso.future", h.sso_form(TokenKind::Resource, uuid, now() + 10 * 60)),
        ("sso.cross_resource", cross),
    ] {
        context.step(check);
        let answer = Answer::read(
            context
                .timed(
                    check,
                    h.client
                        .post(h.sso_url())
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(addon_testing::urlencode(&form)),
                )
                .await,
        )
        .await;
        let refused =
            answer.as_ref().is_some_and(|a| a.status == 403 && !a.headers.contains_key("set-cookie"));
        out.push(Outcome::expect(check, refused, describe(answer.as_ref()), fix));
    }
    out
}

async fn plan_changes(context: &Context, uuid: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    match context.plans.get(1) {
        Some(other) => {
            context.step("plan_change.change");
            let answer =
                Answer::read(context.timed("plan_change", plan_change(context, uuid, other)).await).await;
            out.push(Outcome::expect(
                "plan_change.change",
                answer.as_ref().is_some_and(|a| matches!(a.status, 200 | 202) && a.json().is_some()),
                describe(answer.as_ref()),
                "answer a plan change with 200 and JSON ({\"config\"?, \"message\"?}), or 202",
            ));
            context.step("plan_change.same_plan");
            let again =
                Answer::read(context.timed("plan_change", plan_change(context, uuid, other)).await).await;
            out.push(Outcome::expect(
                "plan_change.same_plan",
                again.as_ref().is_some_and(|a| a.status == 200),
                describe(again.as_ref()),
                "the current plan again is a no-op: answer 200",
            ));
        }
        None => {
            let why = "one plan only: a plan change needs a second (pass --plans first,second if the add-on has more)";
            out.push(Outcome::skip("plan_change.change", why));
            out.push(Outcome::skip("plan_change.same_plan", why));
        }
    }
    context.step("plan_change.unknown");
    let unknown =
        Answer::read(context.timed("plan_change", plan_change(context, &new_uuid(), context.plan())).await)
            .await;
    out.push(Outcome::expect(
        "plan_change.unknown",
        unknown.as_ref().is_some_and(|a| a.status == 404),
        describe(unknown.as_ref()),
        "answer 404 for a resource you do not know",
    ));
    out
}

fn plan_change(context: &Context, uuid: &str, plan: &str) -> reqwest::RequestBuilder {
    context
        .heroku
        .heroku(Method::PUT, &format!("/{uuid}"))
        .header("Content-Type", "application/json")
        .body(json!({"plan": plan}).to_string())
}

async fn deprovision(context: &Context, uuid: &str) -> Vec<Outcome> {
    let h = &context.heroku;
    let mut out = Vec::new();
    context.step("deprovision.ok");
    let first =
        Answer::read(context.timed("deprovision", h.heroku(Method::DELETE, &format!("/{uuid}"))).await).await;
    out.push(Outcome::expect(
        "deprovision.ok",
        first.as_ref().is_some_and(|a| matches!(a.status, 200 | 202 | 204)),
        describe(first.as_ref()),
        "answer a deprovision with 204 (or 202 for asynchronous deprovisioning)",
    ));
    context.step("deprovision.again");
    let again =
        Answer::read(context.timed("deprovision", h.heroku(Method::DELETE, &format!("/{uuid}"))).await).await;
    out.push(Outcome::expect(
        "deprovision.again",
        again.as_ref().is_some_and(|a| matches!(a.status, 204 | 404 | 410)),
        describe(again.as_ref()),
        "a repeated deprovision must not fail: answer 410 (or 204)",
    ));
    out.push(deprovision_unknown(context).await);
    context.step("idempotency.gone_after_deprovision");
    let reprovision = h
        .heroku(Method::POST, "")
        .header("Content-Type", "application/json")
        .body(v3_body(uuid, context.plan()).to_string());
    let gone = Answer::read(context.timed("provision", reprovision).await).await;
    out.push(Outcome::expect(
        "idempotency.gone_after_deprovision",
        gone.as_ref().is_some_and(|a| a.status == 410),
        describe(gone.as_ref()),
        "a uuid that was deprovisioned must not be provisioned again: answer 410",
    ));
    context.step("sso.deprovisioned");
    let form = h.sso_form(TokenKind::Resource, uuid, now());
    let signin = context
        .timed(
            "sso",
            h.client
                .post(h.sso_url())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(addon_testing::urlencode(&form)),
        )
        .await;
    let session = signin.as_ref().and_then(|r| r.headers().get("set-cookie")).map(|_| ());
    let status = signin.as_ref().map(|r| r.status().as_u16());
    out.push(Outcome::expect(
        "sso.deprovisioned",
        status.is_some_and(|s| (400..500).contains(&s)) && session.is_none(),
        status.map_or("no answer".to_owned(), |s| s.to_string()),
        "a deprovisioned resource has nothing to sign in to: refuse with 403, 404 or 410",
    ));
    out
}

/// A deprovision of a resource nobody provisioned: 404. Needs no plan.
async fn deprovision_unknown(context: &Context) -> Outcome {
    context.step("deprovision.unknown");
    let h = &context.heroku;
    let unknown = Answer::read(
        context.timed("deprovision", h.heroku(Method::DELETE, &format!("/{}", new_uuid()))).await,
    )
    .await;
    Outcome::expect(
        "deprovision.unknown",
        unknown.as_ref().is_some_and(|a| a.status == 404),
        describe(unknown.as_ref()),
        "answer 404 for a resource you do not know",
    )
}
