//! The DigitalOcean mode: plays DigitalOcean Add-Ons against the add-on's DigitalOcean routes
//! (`{base}/resources`, `{base}/sso`, `{base}/notifications`): Basic auth with the slug,
//! provisioning in its shape, a re-delivered provision answered with the same config (DigitalOcean's
//! own sample regenerates its key there), SSO tokens (HMAC-SHA256), suspension refusing sign-in
//! until reactivation, notifications (an unknown type must be a 4xx, never a 5xx), plan change
//! and deprovision. Check names start `digitalocean.`.

use addon_testing::{digitalocean_body, new_uuid, now, DigitalOcean};
use reqwest::Method;
use serde_json::{json, Value};

use super::plans::NO_SUCH_PLAN;
use super::{describe, Answer};
use crate::{Context, DigitalOceanOptions, Outcome};

pub(crate) async fn check(context: &Context, options: &DigitalOceanOptions) -> Vec<Outcome> {
    let slug = options.slug.clone().unwrap_or_else(|| context.manifest.id.clone());
    let mut digitalocean = DigitalOcean::new(
        &context.heroku.url,
        &options.base_path,
        &slug,
        &options.password,
        &options.sso_salt,
    );
    digitalocean.client = context.heroku.client.clone();
    let mut out =
        vec![auth(context, &digitalocean, None).await, auth(context, &digitalocean, Some("wrong")).await];
    let (plans, learned) = plans(context, &digitalocean).await;
    out.push(learned);
    let Some(plan) = plans.first().cloned() else {
        let why = "no plan to provision with (see digitalocean.plans): pass --plans";
        for name in
            ["provision", "replay", "sso", "suspension", "notifications", "plan_change", "deprovision"]
        {
            out.push(Outcome::skip(&format!("digitalocean.{name}"), why));
        }
        return out;
    };
    let uuid = new_uuid();
    let first = Answer::read(
        context
            .timed(
                "digitalocean provision",
                request(&digitalocean, Method::POST, "/resources").json(&digitalocean_body(&uuid, &plan)),
            )
            .await,
    )
    .await;
    let provisioned = first.as_ref().is_some_and(|a| a.status == 200 && config_of(a).is_some());
    out.push(Outcome::expect(
        "digitalocean.provision",
        provisioned,
        describe(first.as_ref()),
        "answer 200 with `{\"id\", \"config\": {\"VAR\": \"value\"}, \"message\"}` to `POST {base}/resources`",
    ));
    if !provisioned {
        return out;
    }
    out.push(replay(context, &digitalocean, &uuid, &plan, first.as_ref()).await);
    out.extend(sso(context, &digitalocean, &uuid).await);
    out.extend(suspension(context, &digitalocean, &uuid).await);
    out.extend(notifications(context, &digitalocean, &uuid, &plan).await);
    if let Some(other) = plans.get(1) {
        let answer = Answer::read(
            context
                .timed(
                    "digitalocean plan change",
                    request(&digitalocean, Method::PUT, &format!("/resources/{uuid}"))
                        .json(&json!({ "plan_slug": other })),
                )
                .await,
        )
        .await;
        out.push(Outcome::expect(
            "digitalocean.plan_change",
            answer.as_ref().is_some_and(|a| (200..300).contains(&a.status)),
            describe(answer.as_ref()),
            "answer 2xx (DigitalOcean's sample answers 204) to `PUT {base}/resources/{uuid}` with `{\"plan_slug\"}`",
        ));
    } else {
        out.push(Outcome::skip("digitalocean.plan_change", "one plan only: pass two with --plans"));
    }
    out.extend(deprovision(context, &digitalocean, &uuid).await);
    out
}

fn request(digitalocean: &DigitalOcean, method: Method, path: &str) -> reqwest::RequestBuilder {
    digitalocean.request(method, path)
}

fn config_of(answer: &Answer) -> Option<serde_json::Map<String, Value>> {
    let json = answer.json()?;
    json["id"].as_str()?;
    let config = json["config"].as_object()?;
    config.values().all(Value::is_string).then(|| config.clone())
}

/// A provision without credentials, or with a wrong password, is a JSON 401.
async fn auth(context: &Context, digitalocean: &DigitalOcean, password: Option<&str>) -> Outcome {
    let url = format!("{}{}/resources", digitalocean.url, digitalocean.base_path);
    let mut request = digitalocean.client.post(url).json(&digitalocean_body(&new_uuid(), NO_SUCH_PLAN));
    let name = match password {
        Some(password) => {
            request = request.basic_auth(&digitalocean.slug, Some(password));
            "digitalocean.auth.wrong"
        }
        None => "digitalocean.auth.missing",
    };
    let answer = Answer::read(context.timed(name, request).await).await;
    Outcome::expect(
        name,
        answer.as_ref().is_some_and(|a| a.status == 401 && a.is_json_refusal()),
        describe(answer.as_ref()),
        "refuse DigitalOcean's calls with a JSON 401 unless Basic auth carries the slug and ADDON_DO_PASSWORD",
    )
}

/// The plans: `--plans`, else those the add-on lists when it refuses a plan it does not offer.
async fn plans(context: &Context, digitalocean: &DigitalOcean) -> (Vec<String>, Outcome) {
    if !context.plans.is_empty() {
        return (
            context.plans.clone(),
            Outcome::pass("digitalocean.plans", format!("from --plans: {}", context.plans.join(", "))),
        );
    }
    let body = digitalocean_body(&new_uuid(), NO_SUCH_PLAN);
    let answer = Answer::read(
        context
            .timed("digitalocean plans", request(digitalocean, Method::POST, "/resources").json(&body))
            .await,
    )
    .await;
    let listed: Vec<String> = answer
        .as_ref()
        .and_then(Answer::json)
        .and_then(|json| {
            json["plans"].as_array().map(|p| p.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        })
        .unwrap_or_default();
    if listed.is_empty() {
        let outcome = Outcome::fail(
            "digitalocean.plans",
            format!(
                "the add-on did not list its plans when sent plan `{NO_SUCH_PLAN}`: {}",
                describe(answer.as_ref())
            ),
            "pass the plans to provision with, such as --plans hobby,pro",
        );
        return (listed, outcome);
    }
    let outcome = Outcome::pass(
        "digitalocean.plans",
        format!("learned from the refusal of `{NO_SUCH_PLAN}`: {}", listed.join(", ")),
    );
    (listed, outcome)
}

/// The same provision delivered again gets the same config: DigitalOcean retries, and a new key
/// on the second delivery breaks the app that kept the first.
async fn replay(
    context: &Context,
    digitalocean: &DigitalOcean,
    uuid: &str,
    plan: &str,
    first: Option<&Answer>,
) -> Outcome {
    let again = Answer::read(
        context
            .timed(
                "digitalocean replay",
                request(digitalocean, Method::POST, "/resources").json(&digitalocean_body(uuid, plan)),
            )
            .await,
    )
    .await;
    let same =
        match (first.and_then(config_of), again.as_ref().filter(|a| a.status == 200).and_then(config_of)) {
            (Some(first), Some(again)) => first == again,
            _ => false,
        };
    Outcome::expect(
        "digitalocean.replay",
        same,
        format!("second delivery: {}", describe(again.as_ref())),
        "answer a re-delivered provision (same uuid) with the config of the first answer, without creating anything again",
    )
}

async fn sign_in(
    context: &Context,
    digitalocean: &DigitalOcean,
    form: &[(&str, String)],
    what: &str,
) -> Option<Answer> {
    let request = digitalocean
        .client
        .post(format!("{}{}/sso", digitalocean.url, digitalocean.base_path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(addon_testing::urlencode(form));
    Answer::read(context.timed(what, request).await).await
}

fn redirected(answer: Option<&Answer>) -> bool {
    answer.is_some_and(|a| (300..400).contains(&a.status) && a.headers.contains_key("location"))
}

fn refused(answer: Option<&Answer>) -> bool {
    answer.is_some_and(|a| (400..500).contains(&a.status))
}

async fn sso(context: &Context, digitalocean: &DigitalOcean, uuid: &str) -> Vec<Outcome> {
    let good = sign_in(context, digitalocean, &digitalocean.sso_form(uuid, now()), "digitalocean sso").await;
    let mut forged = digitalocean.sso_form(uuid, now());
    forged[1].1 = "0".repeat(64);
    let wrong = sign_in(context, digitalocean, &forged, "digitalocean sso wrong token").await;
    let stale =
        sign_in(context, digitalocean, &digitalocean.sso_form(uuid, now() - 3600), "digitalocean sso stale")
            .await;
    vec![
        Outcome::expect("digitalocean.sso", redirected(good.as_ref()), describe(good.as_ref()),
            "answer DigitalOcean's SSO form with a redirect (and a session) when `token` is hex(HMAC-SHA256(ADDON_DO_SSO_SALT, \"{timestamp}:{resource_uuid}\"))"),
        Outcome::expect("digitalocean.sso.wrong_token", refused(wrong.as_ref()), describe(wrong.as_ref()),
            "refuse an SSO form whose token does not verify, with a 4xx"),
        Outcome::expect("digitalocean.sso.stale", refused(stale.as_ref()), describe(stale.as_ref()),
            "refuse an SSO form whose timestamp is an hour old, with a 4xx"),
    ]
}

async fn notify(
    context: &Context,
    digitalocean: &DigitalOcean,
    kind: &str,
    payload: Value,
) -> Option<Answer> {
    let body = json!({ "type": kind, "created_at": now(), "payload": payload });
    Answer::read(context.timed(kind, request(digitalocean, Method::POST, "/notifications").json(&body)).await)
        .await
}

/// Suspended: the resource's sign-in is refused; reactivated: it works again.
async fn suspension(context: &Context, digitalocean: &DigitalOcean, uuid: &str) -> Vec<Outcome> {
    let uuids = json!({ "resources_uuids": [uuid] });
    let suspended = notify(context, digitalocean, "resources.suspended", uuids.clone()).await;
    let during =
        sign_in(context, digitalocean, &digitalocean.sso_form(uuid, now()), "digitalocean sso suspended")
            .await;
    let reactivated = notify(context, digitalocean, "resources.reactivated", uuids).await;
    let after =
        sign_in(context, digitalocean, &digitalocean.sso_form(uuid, now()), "digitalocean sso reactivated")
            .await;
    let ok = |a: Option<&Answer>| a.is_some_and(|a| (200..300).contains(&a.status));
    vec![
        Outcome::expect(
            "digitalocean.suspension",
            ok(suspended.as_ref()) && refused(during.as_ref()),
            format!("notification: {}; sign-in while suspended: {}", describe(suspended.as_ref()), describe(during.as_ref())),
            "accept `resources.suspended` with a 2xx, then refuse the resource's sign-in (its data kept) until it is reactivated",
        ),
        Outcome::expect(
            "digitalocean.reactivation",
            ok(reactivated.as_ref()) && redirected(after.as_ref()),
            format!("notification: {}; sign-in after: {}", describe(reactivated.as_ref()), describe(after.as_ref())),
            "accept `resources.reactivated` with a 2xx and let the resource sign in again",
        ),
    ]
}

async fn notifications(
    context: &Context,
    digitalocean: &DigitalOcean,
    uuid: &str,
    plan: &str,
) -> Vec<Outcome> {
    let updated = notify(
        context,
        digitalocean,
        "resources.updated",
        json!({
            "resource": { "uuid": uuid, "name": "renamed-by-addon-check", "state": "provisioned" },
            "plan": { "slug": plan, "display_name": plan },
        }),
    )
    .await;
    let failed = notify(
        context,
        digitalocean,
        "resources.deprovisioning.failed",
        json!({ "resources_uuids": [uuid] }),
    )
    .await;
    let unknown = notify(context, digitalocean, "resources.addon-check-no-such-type", json!({})).await;
    let ok = |a: Option<&Answer>| a.is_some_and(|a| (200..300).contains(&a.status));
    vec![
        Outcome::expect("digitalocean.notification.updated", ok(updated.as_ref()), describe(updated.as_ref()),
            "accept `resources.updated` (`{\"resource\": {\"uuid\", \"name\"}, \"plan\": {\"slug\"}}`) with a 2xx"),
        Outcome::expect("digitalocean.notification.deprovisioning_failed", ok(failed.as_ref()), describe(failed.as_ref()),
            "accept `resources.deprovisioning.failed` with a 2xx and record it"),
        Outcome::expect("digitalocean.notification.unknown", unknown.as_ref().is_some_and(|a| (400..500).contains(&a.status) && a.is_json_refusal()), describe(unknown.as_ref()),
            "refuse a notification type you do not know with a JSON 4xx (422), never a 5xx"),
    ]
}

async fn deprovision(context: &Context, digitalocean: &DigitalOcean, uuid: &str) -> Vec<Outcome> {
    let path = format!("/resources/{uuid}");
    let first = Answer::read(
        context.timed("digitalocean deprovision", request(digitalocean, Method::DELETE, &path)).await,
    )
    .await;
    let again = Answer::read(
        context.timed("digitalocean deprovision again", request(digitalocean, Method::DELETE, &path)).await,
    )
    .await;
    vec![
        Outcome::expect(
            "digitalocean.deprovision",
            first.as_ref().is_some_and(|a| (200..300).contains(&a.status)),
            describe(first.as_ref()),
            "answer 2xx (DigitalOcean's sample answers 200) to `DELETE {base}/resources/{uuid}`",
        ),
        Outcome::expect(
            "digitalocean.deprovision.again",
            refused(again.as_ref()),
            describe(again.as_ref()),
            "refuse a second deprovision of the same resource with a 4xx (404 or 410), not a second success",
        ),
    ]
}
