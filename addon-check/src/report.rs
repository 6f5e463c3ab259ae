//! One outcome per check, printed as it comes (that is the progress of a long run) and summed
//! up at the end; or all of it as JSON for machines.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run, for the reason in the detail (no plan to provision with, say).
    Skip,
}

/// The result of one check: its stable name, what was seen, and for failures what to do.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub check: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Outcome {
    pub fn pass(check: &str, detail: impl Into<String>) -> Self {
        Outcome { check: check.to_owned(), status: Status::Pass, detail: detail.into(), fix: None }
    }

    pub fn fail(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Outcome {
            check: check.to_owned(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn warn(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Outcome {
            check: check.to_owned(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn skip(check: &str, why: impl Into<String>) -> Self {
        Outcome { check: check.to_owned(), status: Status::Skip, detail: why.into(), fix: None }
    }

    /// PASS when `ok`, FAIL with `fix` otherwise.
    pub fn expect(check: &str, ok: bool, detail: impl Into<String>, fix: &str) -> Self {
        if ok {
            Outcome::pass(check, detail)
        } else {
            Outcome::fail(check, detail, fix)
        }
    }

    /// The line printed for it.
    pub fn line(&self) -> String {
        let label = match self.status {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        let mut line = format!("{label}  {:<34} {}", self.check, self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(&format!("\n      -> {fix}"));
        }
        line
    }
}

/// Every outcome of a run.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }

    /// The names of the failed checks.
    pub fn failed(&self) -> Vec<&str> {
        self.outcomes.iter().filter(|o| o.status == Status::Fail).map(|o| o.check.as_str()).collect()
    }

    /// The names of the checks that were not run.
    pub fn skipped(&self) -> Vec<&str> {
        self.outcomes.iter().filter(|o| o.status == Status::Skip).map(|o| o.check.as_str()).collect()
    }

    /// `N passed, M failed` (and `, K skipped` when some were), the closing line.
    pub fn summary(&self) -> String {
        let mut summary = format!("{} passed, {} failed", self.count(Status::Pass), self.count(Status::Fail));
        if self.count(Status::Skip) > 0 {
            summary.push_str(&format!(", {} skipped", self.count(Status::Skip)));
        }
        summary
    }
}
