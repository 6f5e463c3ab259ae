//! `addon-check osb`: plays an Open Service Broker platform (Cloud Foundry, SAP BTP) against a
//! broker, whatever it is written in, and reports as the Heroku checks do. Every check follows
//! the OSB API v2.17 (`openservicebrokerapi/servicebroker` `spec.md`): Basic auth and
//! `X-Broker-API-Version` on every call, the catalog's shape, provision (201; 200 for an
//! identical repeat; 409 for a different one; 202 and `last_operation` when asynchronous, and
//! 422 `AsyncRequired` to a platform that cannot poll), fetch, bind and unbind, update,
//! deprovision (410 once gone), and `{"description"}` on every refusal.

mod platform;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{Outcome, Report, Status};
use platform::{Answer, Call, Platform};

/// What `addon-check osb` is told.
#[derive(Clone, Debug)]
pub struct OsbOptions {
    /// The broker's origin, such as `http://127.0.0.1:5100`.
    pub url: String,
    /// The Basic auth the platform sends.
    pub username: String,
    pub password: String,
    /// How long an asynchronous operation may take before its check fails.
    pub patience: Duration,
}

/// A parameter the checker sends so that a repeat with another value differs.
const MARK: &str = "addon-check";

/// What the catalog says, as far as the checks need it.
struct Service {
    id: String,
    plans: Vec<String>,
    bindable: bool,
    plan_updateable: bool,
    instances_retrievable: bool,
    bindings_retrievable: bool,
}

struct Run<'a> {
    platform: Platform,
    patience: Duration,
    seen: Box<dyn FnMut(&Outcome) + 'a>,
    report: Report,
    /// Every refusal seen, with the check that saw it: each must carry a `description`.
    refusals: Vec<(String, Answer)>,
}

impl Run<'_> {
    fn record(&mut self, outcome: Outcome) {
        (self.seen)(&outcome);
        self.report.outcomes.push(outcome);
    }

    fn failed(&mut self, check: &str, error: String) {
        self.record(Outcome::fail(check, error, "make the broker reachable and run again"));
    }

    /// A call whose refusal is kept for the description check.
    async fn call(&mut self, check: &str, method: Method, path: &str, call: Call<'_>) -> Option<Answer> {
        match self.platform.call(method, path, call).await {
            Ok(answer) => {
                if answer.status.is_client_error() {
                    self.refusals.push((check.to_owned(), answer.clone()));
                }
                Some(answer)
            }
            Err(error) => {
                self.failed(check, error);
                None
            }
        }
    }

    async fn send(
        &mut self,
        check: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Option<Answer> {
        self.call(check, method, path, Call { body, ..Call::default() }).await
    }

    fn expect(&mut self, check: &str, answer: &Answer, ok: bool, wanted: &str, fix: &str) -> bool {
        let detail = format!("wanted {wanted}, got {}", answer.show());
        self.record(Outcome::expect(check, ok, detail, fix));
        ok
    }
}

/// Runs every OSB check against the broker, handing each outcome to `seen` as it is known.
pub async fn run(options: OsbOptions, seen: impl FnMut(&Outcome)) -> Report {
    let platform = match Platform::new(&options.url, &options.username, &options.password) {
        Ok(platform) => platform,
        Err(error) => {
            let mut report = Report::default();
            report.outcomes.push(Outcome::fail("osb.setup", error, "check the URL"));
            return report;
        }
    };
    let mut run = Run {
        platform,
        patience: options.patience,
        seen: Box::new(seen),
        report: Report::default(),
        refusals: Vec::new(),
    };
    checks(&mut run).await;
    described(&mut run);
    run.report
}

async fn checks(run: &mut Run<'_>) {
    auth_and_version(run).await;
    let Some(service) = catalog(run).await else { return };
    let plan = service.plans[0].clone();
    let path = |id: &str| format!("/v2/service_instances/{id}");
    let body = |plan: &str, mark: &str| {
        json!({
            "service_id": service.id, "plan_id": plan, "organization_guid": "addon-check-org",
            "space_guid": "addon-check-space", "context": {"platform": "addon-check"},
            "parameters": {MARK: mark},
        })
    };

    // A platform that cannot poll: a broker that needs to must say so with 422 AsyncRequired.
    let sync_id = addon_testing::new_uuid();
    let answer =
        run.send("osb.provision.async_required", Method::PUT, &path(&sync_id), Some(&body(&plan, "a"))).await;
    let mut created_sync = false;
    if let Some(answer) = answer {
        let code = answer.body.get("error").and_then(Value::as_str);
        let ok = answer.status == StatusCode::CREATED
            || (answer.status == StatusCode::UNPROCESSABLE_ENTITY && code == Some("AsyncRequired"));
        created_sync = answer.status == StatusCode::CREATED;
        run.expect(
            "osb.provision.async_required",
            &answer,
            ok,
            "201, or 422 {\"error\": \"AsyncRequired\"} without accepts_incomplete=true",
            "never answer 202 to a platform that did not send accepts_incomplete=true: refuse with 422 AsyncRequired",
        );
    }

    let id = addon_testing::new_uuid();
    let provision = format!("{}?accepts_incomplete=true", path(&id));
    let Some(answer) =
        run.send("osb.provision.created", Method::PUT, &provision, Some(&body(&plan, "a"))).await
    else {
        return;
    };
    let accepted = answer.status == StatusCode::ACCEPTED;
    let ok = answer.status == StatusCode::CREATED || accepted;
    if !run.expect(
        "osb.provision.created",
        &answer,
        ok,
        "201 (or 202 with accepts_incomplete=true)",
        "answer a new instance 201, or 202 and let the platform poll last_operation",
    ) {
        return;
    }
    if accepted {
        let operation = answer.body.get("operation").and_then(Value::as_str).map(str::to_owned);
        if !poll(run, &id, &service, &plan, operation.as_deref(), "succeeded").await {
            return;
        }
    }

    let repeat = run.send("osb.provision.identical", Method::PUT, &provision, Some(&body(&plan, "a"))).await;
    if let Some(answer) = repeat {
        run.expect(
            "osb.provision.identical",
            &answer,
            answer.status == StatusCode::OK,
            "200 for a repeat with identical attributes",
            "keep the instance's attributes and answer an identical repeat 200, not 201 or 409",
        );
    }
    let different = match service.plans.get(1) {
        Some(other) => body(other, "a"),
        None => body(&plan, "b"),
    };
    if let Some(answer) = run.send("osb.provision.conflict", Method::PUT, &provision, Some(&different)).await
    {
        run.expect(
            "osb.provision.conflict",
            &answer,
            answer.status == StatusCode::CONFLICT,
            "409 for a repeat with different attributes",
            "compare the plan and parameters with the existing instance's and answer 409 when they differ",
        );
    }
    let unknown = json!({"service_id": "addon-check-no-such-service", "plan_id": plan});
    let other_id = addon_testing::new_uuid();
    if let Some(answer) = run
        .send(
            "osb.provision.unknown_service",
            Method::PUT,
            &format!("{}?accepts_incomplete=true", path(&other_id)),
            Some(&unknown),
        )
        .await
    {
        run.expect(
            "osb.provision.unknown_service",
            &answer,
            answer.status == StatusCode::BAD_REQUEST,
            "400 for a service_id the catalog does not list",
            "refuse a service_id or plan_id that is not in the catalog with 400",
        );
    }

    if service.instances_retrievable {
        if let Some(answer) = run.send("osb.fetch.instance", Method::GET, &path(&id), None).await {
            let ok = answer.status == StatusCode::OK
                && answer.body.get("plan_id").and_then(Value::as_str) == Some(plan.as_str());
            run.expect(
                "osb.fetch.instance",
                &answer,
                ok,
                "200 with the instance's plan_id",
                "serve GET /v2/service_instances/{id} when the catalog says instances_retrievable",
            );
        }
    } else {
        run.record(Outcome::skip("osb.fetch.instance", "the catalog says instances_retrievable is false"));
    }

    if service.bindable {
        bindings(run, &service, &id, &plan).await;
    } else {
        run.record(Outcome::skip("osb.bind", "the catalog says the service is not bindable"));
    }

    let mut current = plan.clone();
    match (service.plan_updateable, service.plans.get(1)) {
        (true, Some(other)) => {
            let patch =
                json!({"service_id": service.id, "plan_id": other, "previous_values": {"plan_id": plan}});
            let update = format!("{}?accepts_incomplete=true", path(&id));
            if let Some(answer) = run.send("osb.update", Method::PATCH, &update, Some(&patch)).await {
                let ok = answer.status == StatusCode::OK || answer.status == StatusCode::ACCEPTED;
                if run.expect(
                    "osb.update",
                    &answer,
                    ok,
                    "200 (or 202) for a plan change",
                    "change the instance's plan and answer 200, or 202 and report it through last_operation",
                ) {
                    current = other.clone();
                    if answer.status == StatusCode::ACCEPTED {
                        let operation =
                            answer.body.get("operation").and_then(Value::as_str).map(str::to_owned);
                        poll(run, &id, &service, other, operation.as_deref(), "succeeded").await;
                    }
                }
            }
        }
        _ => run.record(Outcome::skip("osb.update", "the catalog offers no second plan to move to")),
    }

    deprovision(run, &service, &id, &current).await;
    let never = addon_testing::new_uuid();
    let delete = format!("{}?service_id={}&plan_id={plan}", path(&never), service.id);
    if let Some(answer) = run.send("osb.deprovision.unknown", Method::DELETE, &delete, None).await {
        run.expect(
            "osb.deprovision.unknown",
            &answer,
            answer.status == StatusCode::GONE,
            "410 for an instance that does not exist",
            "answer 410 {} when deleting an instance the broker does not have",
        );
    }
    if created_sync {
        let delete =
            format!("{}?service_id={}&plan_id={plan}&accepts_incomplete=true", path(&sync_id), service.id);
        let _ = run.platform.send(Method::DELETE, &delete, None).await;
    }
}

async fn auth_and_version(run: &mut Run<'_>) {
    let cases: [(&str, Call<'_>, StatusCode, &str); 4] = [
        (
            "osb.auth.missing",
            Call { no_auth: true, ..Call::default() },
            StatusCode::UNAUTHORIZED,
            "require Basic auth on every route",
        ),
        (
            "osb.auth.wrong",
            Call { auth: Some(("addon-check", "not-the-password")), ..Call::default() },
            StatusCode::UNAUTHORIZED,
            "compare the platform's username and password, and refuse others with 401",
        ),
        (
            "osb.version.missing",
            Call { version: Some(""), ..Call::default() },
            StatusCode::PRECONDITION_FAILED,
            "refuse a request without X-Broker-API-Version with 412",
        ),
        (
            "osb.version.unsupported",
            Call { version: Some("1.0"), ..Call::default() },
            StatusCode::PRECONDITION_FAILED,
            "refuse a major version other than 2 with 412",
        ),
    ];
    for (check, call, wanted, fix) in cases {
        if let Some(answer) = run.call(check, Method::GET, "/v2/catalog", call).await {
            run.expect(check, &answer, answer.status == wanted, &wanted.as_u16().to_string(), fix);
        }
    }
}

async fn catalog(run: &mut Run<'_>) -> Option<Service> {
    let answer = run.send("osb.catalog", Method::GET, "/v2/catalog", None).await?;
    let service = answer.body.get("services").and_then(Value::as_array).and_then(|s| s.first()).cloned();
    let problems = match (&service, answer.status) {
        (_, status) if status != StatusCode::OK => {
            vec![format!("GET /v2/catalog answered {}", answer.show())]
        }
        (None, _) => vec!["the catalog lists no service".to_owned()],
        (Some(service), _) => catalog_problems(service),
    };
    if !problems.is_empty() {
        run.record(Outcome::fail(
            "osb.catalog",
            problems.join("; "),
            "serve the catalog as the OSB API v2.17 describes it",
        ));
        return None;
    }
    let service = service?;
    let text = |key: &str| service.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let flag = |key: &str| service.get(key).and_then(Value::as_bool).unwrap_or(false);
    let plans: Vec<String> =
        service["plans"].as_array()?.iter().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect();
    run.record(Outcome::pass(
        "osb.catalog",
        format!("service `{}` with {} plans", text("name"), plans.len()),
    ));
    Some(Service {
        id: text("id"),
        plans,
        bindable: flag("bindable"),
        plan_updateable: flag("plan_updateable"),
        instances_retrievable: flag("instances_retrievable"),
        bindings_retrievable: flag("bindings_retrievable"),
    })
}

/// What the spec requires of a service and its plans.
fn catalog_problems(service: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for key in ["id", "name", "description"] {
        if service.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.push(format!("the service has no `{key}`"));
        }
    }
    if service.get("bindable").and_then(Value::as_bool).is_none() {
        problems.push("the service's `bindable` is not a boolean".to_owned());
    }
    let plans = service.get("plans").and_then(Value::as_array).cloned().unwrap_or_default();
    if plans.is_empty() {
        problems.push("the service has no plans".to_owned());
    }
    let mut ids = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        for key in ["id", "name", "description"] {
            if plan.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                problems.push(format!("plan {i} has no `{key}`"));
            }
        }
        if let Some(id) = plan.get("id").and_then(Value::as_str) {
            if ids.contains(&id) || Some(id) == service.get("id").and_then(Value::as_str) {
                problems.push(format!("the id `{id}` is used twice"));
            }
            ids.push(id);
        }
    }
    problems
}

/// Polls `last_operation` until `wanted` (`succeeded`, or `gone` for a deprovision).
async fn poll(
    run: &mut Run<'_>,
    id: &str,
    service: &Service,
    plan: &str,
    operation: Option<&str>,
    wanted: &str,
) -> bool {
    let check = if wanted == "gone" { "osb.last_operation.deprovision" } else { "osb.last_operation" };
    let mut path =
        format!("/v2/service_instances/{id}/last_operation?service_id={}&plan_id={plan}", service.id);
    if let Some(operation) = operation {
        path.push_str(&format!("&operation={operation}"));
    }
    let deadline = Instant::now() + run.patience;
    loop {
        let Some(answer) = run.send(check, Method::GET, &path, None).await else { return false };
        let state = answer.body.get("state").and_then(Value::as_str).unwrap_or_default().to_owned();
        let done = match wanted {
            "gone" => {
                answer.status == StatusCode::GONE || (answer.status == StatusCode::OK && state == "succeeded")
            }
            _ => answer.status == StatusCode::OK && state == "succeeded",
        };
        if done {
            run.record(Outcome::pass(check, format!("reached `{wanted}` through last_operation")));
            return true;
        }
        let polling = answer.status == StatusCode::OK && state == "in progress";
        if !polling || Instant::now() >= deadline {
            let why = if polling {
                "still in progress when the checker's patience ran out".to_owned()
            } else {
                answer.show()
            };
            run.record(Outcome::fail(check, format!("wanted `{wanted}`, got {why}"), "report an operation as {\"state\": \"in progress\"} until it is done, then `succeeded` (or 410 once deleted)"));
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn bindings(run: &mut Run<'_>, service: &Service, id: &str, plan: &str) {
    let binding_id = addon_testing::new_uuid();
    let path = format!("/v2/service_instances/{id}/service_bindings/{binding_id}");
    let body = |mark: &str| json!({"service_id": service.id, "plan_id": plan, "bind_resource": {"app_guid": "addon-check-app"}, "parameters": {MARK: mark}});
    let Some(first) = run.send("osb.bind", Method::PUT, &path, Some(&body("a"))).await else { return };
    let ok =
        first.status == StatusCode::CREATED && first.body.get("credentials").is_some_and(Value::is_object);
    if !run.expect(
        "osb.bind",
        &first,
        ok,
        "201 with a `credentials` object",
        "answer a new binding 201 {\"credentials\": {...}}",
    ) {
        return;
    }
    if let Some(again) = run.send("osb.bind.identical", Method::PUT, &path, Some(&body("a"))).await {
        let ok =
            again.status == StatusCode::OK && again.body.get("credentials") == first.body.get("credentials");
        run.expect(
            "osb.bind.identical",
            &again,
            ok,
            "200 with the same credentials",
            "keep each binding's credentials and answer an identical repeat 200 with them",
        );
    }
    if let Some(other) = run.send("osb.bind.conflict", Method::PUT, &path, Some(&body("b"))).await {
        run.expect(
            "osb.bind.conflict",
            &other,
            other.status == StatusCode::CONFLICT,
            "409 for a repeat with different parameters",
            "answer 409 when a binding id comes back with other attributes",
        );
    }
    if service.bindings_retrievable {
        if let Some(fetched) = run.send("osb.fetch.binding", Method::GET, &path, None).await {
            let ok = fetched.status == StatusCode::OK
                && fetched.body.get("credentials") == first.body.get("credentials");
            run.expect(
                "osb.fetch.binding",
                &fetched,
                ok,
                "200 with the binding's credentials",
                "serve GET .../service_bindings/{id} when the catalog says bindings_retrievable",
            );
        }
    }
    let unbind = format!("{path}?service_id={}&plan_id={plan}", service.id);
    if let Some(answer) = run.send("osb.unbind", Method::DELETE, &unbind, None).await {
        run.expect(
            "osb.unbind",
            &answer,
            answer.status == StatusCode::OK,
            "200",
            "remove the binding and answer 200 {}",
        );
    }
    if let Some(answer) = run.send("osb.unbind.gone", Method::DELETE, &unbind, None).await {
        run.expect(
            "osb.unbind.gone",
            &answer,
            answer.status == StatusCode::GONE,
            "410 for a binding already removed",
            "answer 410 {} for a binding that does not exist",
        );
    }
}

async fn deprovision(run: &mut Run<'_>, service: &Service, id: &str, plan: &str) {
    let delete = format!(
        "/v2/service_instances/{id}?service_id={}&plan_id={plan}&accepts_incomplete=true",
        service.id
    );
    let Some(answer) = run.send("osb.deprovision", Method::DELETE, &delete, None).await else { return };
    let ok = answer.status == StatusCode::OK || answer.status == StatusCode::ACCEPTED;
    if !run.expect(
        "osb.deprovision",
        &answer,
        ok,
        "200 (or 202)",
        "delete the instance and answer 200 {}, or 202 and report it through last_operation",
    ) {
        return;
    }
    if answer.status == StatusCode::ACCEPTED {
        let operation = answer.body.get("operation").and_then(Value::as_str).map(str::to_owned);
        if !poll(run, id, service, plan, operation.as_deref(), "gone").await {
            return;
        }
    }
    if let Some(again) = run.send("osb.deprovision.gone", Method::DELETE, &delete, None).await {
        run.expect(
            "osb.deprovision.gone",
            &again,
            again.status == StatusCode::GONE,
            "410 for an instance already deleted",
            "answer 410 {} when the instance is gone",
        );
    }
}

/// Every refusal the checks saw must be `{"description": ...}` (with `error` where the spec names one).
fn described(run: &mut Run<'_>) {
    if run.report.count(Status::Pass) == 0 {
        return;
    }
    // A 410 is `{}` by the spec: nothing to describe.
    let bare: Vec<String> = run
        .refusals
        .iter()
        .filter(|(_, answer)| answer.status != StatusCode::GONE && !answer.described())
        .map(|(check, answer)| format!("{check}: {}", answer.show()))
        .collect();
    let outcome = if bare.is_empty() {
        Outcome::pass(
            "osb.errors.described",
            format!("{} refusals, each with a description", run.refusals.len()),
        )
    } else {
        Outcome::fail(
            "osb.errors.described",
            bare.join("; "),
            "write every 4xx as {\"description\": \"...\"} (the platform shows it to its user)",
        )
    };
    run.record(outcome);
}
