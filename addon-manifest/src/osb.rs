//! What an add-on declares to serve the Open Service Broker API as well as Heroku's: the one
//! service its catalog lists, and (optionally) the id of each plan.

use crate::rules::{Field, Problem};

/// The service an add-on offers on an Open Service Broker platform (Cloud Foundry, SAP BTP):
/// `GET /v2/catalog` lists it, with the declaration's name and plans.
///
/// ```
/// # use addon_manifest::{Declaration, OsbService};
/// const SPEC: Declaration<'static> = Declaration::new("acme-db", "Acme DB", "https://db.acme.example")
///     .config_vars(&["ACME_DB_URL"])
///     .plans(&["test", "large"])
///     .osb(OsbService::new("8f0c6b7e-3a51-4b8e-9c2d-5e4f3a2b1c0d").description("Acme's key-value store"));
/// assert!(SPEC.problems().is_empty());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OsbService<'a> {
    /// The service's id in the catalog: stable for the life of the service (platforms key
    /// instances on it), usually a GUID.
    pub service_id: &'a str,
    /// The catalog's description; the add-on's name when empty.
    pub description: &'a str,
    /// Whether instances can be bound (credentials handed to apps). Default `true`.
    pub bindable: bool,
    /// `(plan, id)` pairs for plans whose catalog id is given; every other plan's id is derived
    /// from the service id and the plan's slug (the same every time).
    pub plan_ids: &'a [(&'a str, &'a str)],
}

impl<'a> OsbService<'a> {
    pub const fn new(service_id: &'a str) -> Self {
        OsbService { service_id, description: "", bindable: true, plan_ids: &[] }
    }

    pub const fn description(mut self, description: &'a str) -> Self {
        self.description = description;
        self
    }

    pub const fn bindable(mut self, bindable: bool) -> Self {
        self.bindable = bindable;
        self
    }

    pub const fn plan_ids(mut self, plan_ids: &'a [(&'a str, &'a str)]) -> Self {
        self.plan_ids = plan_ids;
        self
    }

    /// The id given for `plan`, if any.
    pub fn given_plan_id(&self, plan: &str) -> Option<&'a str> {
        self.plan_ids.iter().find(|(slug, _)| *slug == plan).map(|(_, id)| *id)
    }

    /// Every rule the service breaks, given the declaration's plans.
    pub fn problems(&self, plans: &[&str]) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(message) = check_catalog_id("the OSB `service_id`", self.service_id) {
            problems.push(Problem { field: Field::OsbServiceId, message });
        }
        for (i, (plan, id)) in self.plan_ids.iter().enumerate() {
            let message = if !plans.contains(plan) {
                Some(format!("`{plan}` has an OSB plan id but is not one of the declared plans"))
            } else if self.plan_ids[..i].iter().any(|(other, _)| other == plan) {
                Some(format!("the plan `{plan}` is given an OSB id twice; keep one"))
            } else if self.plan_ids[..i].iter().any(|(_, other)| other == id) || *id == self.service_id {
                Some(format!("the OSB id `{id}` is used twice; every plan needs its own"))
            } else {
                check_catalog_id("an OSB plan id", id).err()
            };
            if let Some(message) = message {
                problems.push(Problem { field: Field::OsbPlanId(i), message });
            }
        }
        problems
    }
}

/// Catalog ids travel in URLs' query strings and platforms' databases: printable, no spaces,
/// at most 255 characters (GUIDs in practice).
pub fn check_catalog_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("{what} is empty; use a stable GUID, such as one from `uuidgen`"));
    }
    if id.len() > 255 {
        return Err(format!("{what} is longer than 255 characters"));
    }
    if let Some(bad) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c))) {
        return Err(format!(
            "{what} `{id}` contains `{bad}`; use letters, digits, `-`, `_` and `.` only (a GUID is best)"
        ));
    }
    Ok(())
}
