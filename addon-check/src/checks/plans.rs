//! Which plans to provision with. The checker asks the add-on: it provisions with a plan slug no
//! add-on offers, and an add-on built with `addon-runtime` refuses it with a 422 whose JSON lists
//! its plans (`{"message": ..., "plans": ["hobby", "pro"]}`). An add-on that lists none needs
//! `--plans`; without plans, every check that provisions is skipped, and said to be.

use reqwest::Method;

use super::{describe, Answer};
use crate::{Context, Outcome};

/// A slug no add-on offers: lower case, so it is a valid slug and only its absence is refused.
pub(crate) const NO_SUCH_PLAN: &str = "addon-check-no-such-plan";

/// The plans to use and the outcomes that say where they came from: `given` (from `--plans`)
/// checked against what the add-on lists, else what it lists, else none.
pub(crate) async fn choose(context: &Context, given: &[String]) -> (Vec<String>, Vec<Outcome>) {
    let (listed, probe) = ask(context).await;
    let mut out = vec![probe];
    let plans = match (given.is_empty(), listed) {
        (false, Some(listed)) => {
            let (known, unknown): (Vec<_>, Vec<_>) = given.iter().cloned().partition(|p| listed.contains(p));
            if unknown.is_empty() {
                out.push(Outcome::pass("checker.plans", format!("from --plans: {}", known.join(", "))));
                known
            } else {
                out.push(Outcome::fail(
                    "checker.plans",
                    format!(
                        "--plans names {}, which the add-on does not offer (its plans: {})",
                        quoted(&unknown),
                        listed.join(", ")
                    ),
                    format!(
                        "leave --plans out to use the add-on's own plans, or pass some of: --plans {}",
                        listed.join(",")
                    ),
                ));
                if known.is_empty() {
                    listed
                } else {
                    known
                }
            }
        }
        (false, None) => {
            out.push(Outcome::pass("checker.plans", format!("from --plans: {}", given.join(", "))));
            given.to_vec()
        }
        (true, Some(listed)) => {
            let detail =
                format!("learned from the add-on's refusal of plan `{NO_SUCH_PLAN}`: {}", listed.join(", "));
            out.push(Outcome::pass("checker.plans", detail));
            listed
        }
        (true, None) => {
            out.push(Outcome::fail(
                "checker.plans",
                format!("the add-on did not list its plans when it was sent plan `{NO_SUCH_PLAN}`, and --plans was not given"),
                "pass the plans to provision with, such as --plans hobby,pro (the second is used for the plan change), \
                 or list them as `plans` in the JSON of the 422 that refuses an unknown plan",
            ));
            Vec::new()
        }
    };
    (plans, out)
}

/// Provisions a fresh uuid with [`NO_SUCH_PLAN`]: the plans the refusal lists, if any, and the
/// outcome of `provision.unknown_plan`.
async fn ask(context: &Context) -> (Option<Vec<String>>, Outcome) {
    const CHECK: &str = "provision.unknown_plan";
    context.step(CHECK);
    let uuid = addon_testing::new_uuid();
    let request = context
        .heroku
        .heroku(Method::POST, "")
        .header("Content-Type", "application/json")
        .body(addon_testing::v3_body(&uuid, NO_SUCH_PLAN).to_string());
    let answer = Answer::read(context.timed(CHECK, request).await).await;
    let listed = answer.as_ref().and_then(listed_plans);
    let outcome = match (&answer, &listed) {
        (Some(answer), Some(plans)) if answer.is_json_refusal() => {
            Outcome::pass(CHECK, format!("{}, listing the plans {}", answer.status, plans.join(", ")))
        }
        (Some(answer), None) if answer.is_json_refusal() => {
            Outcome::pass(CHECK, format!("{} without a list of plans", answer.status))
        }
        (Some(answer), _) if (200..300).contains(&answer.status) => {
            let _ = context.heroku.deprovision(&uuid).await;
            Outcome::warn(
                CHECK,
                format!("plan `{NO_SUCH_PLAN}` was provisioned ({})", answer.status),
                "refuse a plan you do not offer with a 422 (add `\"plans\": [...]` to its JSON so tools can learn them)",
            )
        }
        _ => Outcome::fail(
            CHECK,
            describe(answer.as_ref()),
            "refuse a plan you do not offer with a 422 and a JSON {\"message\": ...}, never a 5xx",
        ),
    };
    (listed, outcome)
}

/// The refusal's `plans`, when it is a non-empty list of strings.
fn listed_plans(answer: &Answer) -> Option<Vec<String>> {
    let json = answer.json()?;
    let plans: Vec<String> =
        json["plans"].as_array()?.iter().map(|p| p.as_str().map(str::to_owned)).collect::<Option<_>>()?;
    (!plans.is_empty() && (400..500).contains(&answer.status)).then_some(plans)
}

fn quoted(plans: &[String]) -> String {
    plans.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
}
