//! Hostile and malformed input: 4xx with a JSON message, never a 5xx.

use reqwest::Method;

use super::{early_answer, Answer};
use crate::{Context, Outcome};

pub(crate) async fn check(context: &Context) -> Vec<Outcome> {
    let huge = format!(
        "{{\"uuid\": \"{}\", \"plan\": \"x\", \"padding\": \"{}\"}}",
        addon_testing::new_uuid(),
        "x".repeat(2 * 1024 * 1024)
    );
    let cases = [
        ("input.malformed_json", "application/json", "{\"uuid\": ".to_owned()),
        ("input.missing_uuid", "application/json", format!("{{\"plan\": \"{}\"}}", context.plan())),
        (
            "input.wrong_content_type",
            "text/plain",
            format!("{{\"uuid\": \"{}\"}}", addon_testing::new_uuid()),
        ),
        ("input.huge_body", "application/json", huge),
    ];
    let mut outcomes = Vec::new();
    for (check, content_type, body) in cases {
        context.step(check);
        let request = context.heroku.heroku(Method::POST, "").header("Content-Type", content_type).body(body);
        let answer = early_answer::send(context, check, request).await;
        let ok = answer.as_ref().is_some_and(Answer::is_json_refusal);
        outcomes.push(Outcome::expect(
            check,
            ok,
            super::describe(answer.as_ref()),
            "answer bad input with a 4xx and a JSON body {\"message\": ...} for the person who reads it, never a 5xx",
        ));
    }
    outcomes
}
