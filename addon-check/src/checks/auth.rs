//! Basic auth on the three verbs: no credentials and wrong ones get 401, before anything else.

use reqwest::Method;

use super::Answer;
use crate::{Context, Outcome};

pub(crate) async fn check(context: &Context) -> Vec<Outcome> {
    let h = &context.heroku;
    let unknown = addon_testing::new_uuid();
    let body = serde_json::json!({"uuid": unknown, "plan": context.plan()}).to_string();
    let verbs = [
        ("provision", Method::POST, String::new()),
        ("plan_change", Method::PUT, format!("/{unknown}")),
        ("deprovision", Method::DELETE, format!("/{unknown}")),
    ];
    let mut outcomes = Vec::new();
    for (name, method, path) in verbs {
        let url = format!("{}{}{path}", h.url, h.base_path());
        let request =
            |r: reqwest::RequestBuilder| r.header("Content-Type", "application/json").body(body.clone());
        context.step(&format!("auth.missing.{name}"));
        let missing =
            Answer::read(context.timed(name, request(h.client.request(method.clone(), &url))).await).await;
        outcomes.push(unauthorized(&format!("auth.missing.{name}"), missing.as_ref(), "without credentials"));
        context.step(&format!("auth.wrong.{name}"));
        let wrong = h.client.request(method, &url).basic_auth(&h.user, Some("not-the-password"));
        let wrong = Answer::read(context.timed(name, request(wrong)).await).await;
        outcomes.push(unauthorized(&format!("auth.wrong.{name}"), wrong.as_ref(), "with a wrong password"));
    }
    outcomes
}

fn unauthorized(check: &str, answer: Option<&Answer>, case: &str) -> Outcome {
    let ok = answer.is_some_and(|a| a.status == 401);
    Outcome::expect(
        check,
        ok,
        format!("{case}: {}", super::describe(answer)),
        "compare the Basic auth id and password with the manifest's (in constant time) and answer 401 first",
    )
}
