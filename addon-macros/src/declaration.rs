//! The attribute's arguments as an `addon_manifest::Declaration`, the one model of a declaration
//! (its fields, setters and defaults live there), judged by the manifest rules the runtime and
//! the checker also use; each problem is reported at the literal it came from.

use addon_manifest::{Declaration, DigitalOceanListing, Field, OsbService, Requirement};
use proc_macro2::Span;

use crate::args::{Args, Value};
use crate::diagnostics::Errors;
use crate::symbol::Key;

/// The attribute's lists as the declaration borrows them: names, and `requires` flags parsed.
pub(crate) struct Lists<'a> {
    config_vars: Vec<&'a str>,
    plans: Vec<&'a str>,
    regions: Vec<&'a str>,
    pub(crate) requires: Vec<Requirement>,
    /// `osb(plan_ids(...))` as `(plan, id)` pairs.
    osb_plan_ids: Vec<(&'a str, &'a str)>,
}

impl<'a> Lists<'a> {
    /// `None` if a `requires` flag is unknown (reported at the flag, with the known ones).
    pub(crate) fn of(args: &'a Args, errors: &mut Errors) -> Option<Lists<'a>> {
        let names = |key| {
            args.list(key).map_or_else(Vec::new, |l| l.items.iter().map(|s| s.value.as_str()).collect())
        };
        let mut all_known = true;
        let mut requires = Vec::new();
        for flag in args.list(Key::Requires).map_or(&[][..], |l| &l.items) {
            match flag.value.parse::<Requirement>() {
                Ok(requirement) => requires.push(requirement),
                Err(message) => {
                    errors.push(flag.span, message);
                    all_known = false;
                }
            }
        }
        all_known.then(|| Lists {
            config_vars: names(Key::ConfigVars),
            plans: names(Key::Plans),
            regions: names(Key::Regions),
            requires,
            osb_plan_ids: match args.get(Key::Osb) {
                Some(Value::Osb(osb)) => {
                    osb.plan_ids.iter().map(|(plan, id)| (plan.value.as_str(), id.value.as_str())).collect()
                }
                _ => Vec::new(),
            },
        })
    }
}

/// The declaration the attribute makes: `Declaration::new` with the required keys, then the
/// setter of each other key given, so a key left out keeps the one default. `None` if a required
/// key is missing (already reported).
pub(crate) fn declaration<'a>(args: &'a Args, lists: &'a Lists<'a>) -> Option<Declaration<'a>> {
    let required = |key| args.str(key).map(|s| s.value.as_str());
    args.list(Key::ConfigVars)?;
    args.list(Key::Plans)?;
    let mut declaration =
        Declaration::new(required(Key::Id)?, required(Key::Name)?, required(Key::Production)?);
    for (key, value) in args.entries() {
        declaration = match (key, value) {
            (Key::ConfigVars, _) => declaration.config_vars(&lists.config_vars),
            (Key::Plans, _) => declaration.plans(&lists.plans),
            (Key::Regions, _) => declaration.regions(&lists.regions),
            (Key::Requires, _) => declaration.requires(&lists.requires),
            (Key::ConfigVarsPrefix, Value::Str(s)) => declaration.config_vars_prefix(&s.value),
            (Key::BasePath, Value::Str(s)) => declaration.base_path(&s.value),
            (Key::SsoPath, Value::Str(s)) => declaration.sso_path(&s.value),
            (Key::ApiKeyVar, Value::Str(s)) => declaration.api_key(&s.value),
            (Key::Port, Value::Port(port, _)) => declaration.port(*port),
            (Key::DigitalOcean, Value::Group(settings)) => declaration.digitalocean(listing(settings)),
            (Key::Osb, Value::Osb(osb)) => {
                let service_id = osb.service_id.as_ref().map_or("", |s| s.value.as_str());
                let mut service = OsbService::new(service_id).plan_ids(&lists.osb_plan_ids);
                if let Some(description) = &osb.description {
                    service = service.description(&description.value);
                }
                if let Some(bindable) = osb.bindable {
                    service = service.bindable(bindable);
                }
                declaration.osb(service)
            }
            // `id`, `name`, `production` went to `new`; `manifest` and `crate` are not declared.
            _ => declaration,
        };
    }
    Some(declaration)
}

/// `digitalocean(...)`'s settings over the listing's defaults.
fn listing(settings: &crate::args::Settings) -> DigitalOceanListing<'_> {
    let mut listing = DigitalOceanListing::new();
    if let Some(path) = settings.get("base_path") {
        listing = listing.base_path(&path.value);
    }
    if let Some(slug) = settings.get("slug") {
        listing = listing.slug(&slug.value);
    }
    listing
}

/// Reports every rule the declaration breaks; whether it broke none.
pub(crate) fn check(declaration: &Declaration<'_>, args: &Args, errors: &mut Errors) -> bool {
    let problems = declaration.problems();
    for problem in &problems {
        errors.push(span_of(problem.field, args).unwrap_or_else(Span::call_site), &problem.message);
    }
    problems.is_empty()
}

/// Where a field was written in the attribute (`Field::ConfigVar(1)` is the second literal of
/// `config_vars = [...]`); `None` for a default or a field the attribute does not hold.
fn span_of(field: Field, args: &Args) -> Option<Span> {
    match field {
        Field::Id => args.span(Key::Id),
        Field::Name => args.span(Key::Name),
        Field::ConfigVars => args.span(Key::ConfigVars),
        Field::ConfigVar(i) => args.item_span(Key::ConfigVars, i),
        Field::ConfigVarsPrefix => args.span(Key::ConfigVarsPrefix),
        Field::Regions => args.span(Key::Regions),
        Field::Region(i) => args.item_span(Key::Regions, i),
        Field::Requires => args.span(Key::Requires),
        Field::Requirement(i) => args.item_span(Key::Requires, i),
        Field::Production | Field::ProductionBaseUrl | Field::ProductionSsoUrl => args.span(Key::Production),
        Field::Plans => args.span(Key::Plans),
        Field::Plan(i) => args.item_span(Key::Plans, i),
        Field::BasePath => args.span(Key::BasePath),
        Field::SsoPath => args.span(Key::SsoPath),
        Field::ApiKey => args.span(Key::ApiKeyVar),
        Field::DigitalOceanBasePath => digitalocean_span(args, "base_path"),
        Field::DigitalOceanSlug => digitalocean_span(args, "slug"),
        Field::OsbServiceId => osb(args)?.service_id.as_ref().map(|s| s.span),
        Field::OsbPlanId(i) => osb(args)?.plan_ids.get(i).map(|(plan, id)| {
            // A plan the add-on does not declare is pointed at by its name, a bad id at the id.
            if args.list(Key::Plans).is_some_and(|l| l.items.iter().any(|p| p.value == plan.value)) {
                id.span
            } else {
                plan.span
            }
        }),
        _ => None,
    }
}

/// Where a setting of `digitalocean(...)` was written; the whole key for a default.
fn digitalocean_span(args: &Args, name: &str) -> Option<Span> {
    match args.get(Key::DigitalOcean)? {
        Value::Group(settings) => Some(settings.get(name).map_or(settings.span, |s| s.span)),
        _ => None,
    }
}

fn osb(args: &Args) -> Option<&crate::osb_args::OsbArgs> {
    match args.get(Key::Osb)? {
        Value::Osb(osb) => Some(osb),
        _ => None,
    }
}
