//! Applies the manifest rules (the same functions the runtime and the checker use, from
//! `addon-manifest`) to what the attribute declared, and reports each problem at its literal.

use addon_manifest::{Declaration, Requirement, DEFAULT_BASE_PATH, DEFAULT_PORT, DEFAULT_SSO_PATH};
use proc_macro2::Span;

use crate::args::{Args, List, Str};
use crate::diagnostics::Errors;

/// A declaration that obeys every rule, ready for code generation and the manifest file.
pub(crate) struct Spec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) config_vars: Vec<Str>,
    pub(crate) config_vars_prefix: Option<String>,
    pub(crate) regions: Vec<String>,
    pub(crate) requires: Vec<Requirement>,
    pub(crate) production: String,
    pub(crate) base_path: String,
    pub(crate) sso_path: String,
    pub(crate) port: u16,
    /// `manifest = "..."` as written, relative to the crate's directory.
    pub(crate) manifest: Option<String>,
}

impl Spec {
    pub(crate) fn declaration<'a>(&'a self, vars: &'a [&'a str], regions: &'a [&'a str]) -> Declaration<'a> {
        Declaration {
            id: &self.id,
            name: &self.name,
            config_vars: vars,
            config_vars_prefix: self.config_vars_prefix.as_deref(),
            regions,
            requires: &self.requires,
            production: &self.production,
            base_path: &self.base_path,
            sso_path: &self.sso_path,
            port: self.port,
        }
    }

    pub(crate) fn var_names(&self) -> Vec<&str> {
        self.config_vars.iter().map(|v| v.value.as_str()).collect()
    }

    pub(crate) fn region_names(&self) -> Vec<&str> {
        self.regions.iter().map(String::as_str).collect()
    }
}

/// Checks the declaration; `None` if a required key is missing or a rule is broken (each
/// problem is in `errors`).
pub(crate) fn check(args: &Args, errors: &mut Errors) -> Option<Spec> {
    let requires = parse_requirements(args.requires.as_ref(), errors);
    let (Some(id), Some(name), Some(config_vars), Some(production)) =
        (&args.id, &args.name, &args.config_vars, &args.production)
    else {
        return None;
    };
    let spec = Spec {
        id: id.value.clone(),
        name: name.value.clone(),
        config_vars: config_vars.items.clone(),
        config_vars_prefix: args.config_vars_prefix.as_ref().map(|p| p.value.clone()),
        regions: match &args.regions {
            Some(list) => list.items.iter().map(|r| r.value.clone()).collect(),
            None => vec!["us".to_owned()],
        },
        requires: requires?,
        production: production.value.clone(),
        base_path: args.base_path.as_ref().map_or(DEFAULT_BASE_PATH, |p| &p.value).to_owned(),
        sso_path: args.sso_path.as_ref().map_or(DEFAULT_SSO_PATH, |p| &p.value).to_owned(),
        port: args.port.map_or(DEFAULT_PORT, |(port, _)| port),
        manifest: args.manifest.as_ref().map(|m| m.value.clone()),
    };
    let (vars, regions) = (spec.var_names(), spec.region_names());
    let problems = spec.declaration(&vars, &regions).problems();
    for problem in &problems {
        errors.push(span_of(&problem.field, args), &problem.message);
    }
    problems.is_empty().then_some(spec)
}

/// Every flag must be one Heroku knows; unknown ones are reported with the known ones.
fn parse_requirements(list: Option<&List>, errors: &mut Errors) -> Option<Vec<Requirement>> {
    let mut all_known = true;
    let mut requires = Vec::new();
    for flag in list.map_or(&[][..], |l| &l.items) {
        match flag.value.parse::<Requirement>() {
            Ok(requirement) => requires.push(requirement),
            Err(message) => {
                errors.push(flag.span, message);
                all_known = false;
            }
        }
    }
    all_known.then_some(requires)
}

/// Where a manifest field was written in the attribute (`api.config_vars[1]` is the second
/// literal of `config_vars = [...]`); the attribute itself for defaults.
fn span_of(field: &str, args: &Args) -> Span {
    let str_span = |s: &Option<Str>| s.as_ref().map(|s| s.span);
    let list_span = |l: &Option<List>| l.as_ref().map(|l| l.span);
    let item_span = |l: &Option<List>, rest: &str| {
        let index: usize = rest.strip_prefix('[')?.strip_suffix(']')?.parse().ok()?;
        l.as_ref()?.items.get(index).map(|s| s.span)
    };
    let span = match field {
        "id" => str_span(&args.id),
        "name" => str_span(&args.name),
        "api.config_vars_prefix" => str_span(&args.config_vars_prefix),
        "api.config_vars" => list_span(&args.config_vars),
        "api.regions" => list_span(&args.regions),
        "api.requires" => list_span(&args.requires),
        "base_path" => str_span(&args.base_path),
        "sso_path" => str_span(&args.sso_path),
        f if f == "production" || f.starts_with("api.production") => str_span(&args.production),
        f => f
            .strip_prefix("api.config_vars")
            .and_then(|rest| item_span(&args.config_vars, rest))
            .or_else(|| f.strip_prefix("api.regions").and_then(|rest| item_span(&args.regions, rest))),
    };
    span.unwrap_or_else(Span::call_site)
}
