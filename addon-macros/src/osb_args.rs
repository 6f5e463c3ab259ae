//! Parses the inside of `osb(...)`: `service_id = "..."` (required), `description = "..."`,
//! `bindable = true|false` and `plan_ids(<plan> = "...", ...)`. Every problem is reported at its
//! token and parsing goes on; whether the ids are good is the declaration's rules' business.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Ident, LitBool, LitStr, Token};

use crate::args::Str;
use crate::diagnostics::Errors;
use crate::symbol::{self, OsbKey};

/// `osb(...)` as written.
pub(crate) struct OsbArgs {
    pub(crate) service_id: Option<Str>,
    pub(crate) description: Option<Str>,
    pub(crate) bindable: Option<bool>,
    /// `(plan, id)`: the plan's slug where its name was written, and the id's literal.
    pub(crate) plan_ids: Vec<(Str, Str)>,
    pub(crate) span: Span,
}

enum Setting {
    Str(Ident, LitStr),
    Bool(Ident, LitBool),
    Pairs(Ident, Vec<(Str, LitStr)>),
}

impl Parse for Setting {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            // A plan is a name, or a string for slugs with `-` (`"pro-2" = "..."`).
            let pairs = Punctuated::<(Str, LitStr), Token![,]>::parse_terminated_with(&content, |input| {
                let plan = if input.peek(LitStr) {
                    str_of(&input.parse()?)
                } else {
                    let plan: Ident = input.parse()?;
                    Str { value: plan.to_string(), span: plan.span() }
                };
                input.parse::<Token![=]>()?;
                Ok((plan, input.parse()?))
            })?;
            return Ok(Setting::Pairs(key, pairs.into_iter().collect()));
        }
        input.parse::<Token![=]>()?;
        if input.peek(LitBool) {
            Ok(Setting::Bool(key, input.parse()?))
        } else if input.peek(LitStr) {
            Ok(Setting::Str(key, input.parse()?))
        } else {
            Err(input.error(format!("`{key}` takes a string literal (or `true`/`false` for `bindable`)")))
        }
    }
}

impl Setting {
    fn key(&self) -> &Ident {
        match self {
            Setting::Str(key, _) | Setting::Bool(key, _) | Setting::Pairs(key, _) => key,
        }
    }
}

fn str_of(lit: &LitStr) -> Str {
    Str { value: lit.value(), span: lit.span() }
}

/// `None` (with the errors) if the group does not parse or lacks `service_id`.
pub(crate) fn parse(tokens: TokenStream, span: Span, errors: &mut Errors) -> Option<OsbArgs> {
    let settings = match Punctuated::<Setting, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(settings) => settings,
        Err(error) => {
            errors.push_error(error);
            return None;
        }
    };
    let mut osb = OsbArgs { service_id: None, description: None, bindable: None, plan_ids: Vec::new(), span };
    let mut given = Vec::new();
    for setting in settings {
        let name = setting.key().to_string();
        let Some(key) = OsbKey::from_name(&name) else {
            let names = OsbKey::names();
            let hint =
                symbol::closest(&name, &names).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default();
            errors.push(
                setting.key().span(),
                format!("unknown `osb` setting `{name}`: expected one of {}{hint}", symbol::list(&names)),
            );
            continue;
        };
        if given.contains(&key) {
            errors.push(setting.key().span(), format!("`osb({name} ...)` is given twice; keep one"));
            continue;
        }
        given.push(key);
        match (key, setting) {
            (OsbKey::ServiceId, Setting::Str(_, lit)) => osb.service_id = Some(str_of(&lit)),
            (OsbKey::Description, Setting::Str(_, lit)) => osb.description = Some(str_of(&lit)),
            (OsbKey::Bindable, Setting::Bool(_, lit)) => osb.bindable = Some(lit.value),
            (OsbKey::PlanIds, Setting::Pairs(_, pairs)) => {
                osb.plan_ids = pairs.into_iter().map(|(plan, id)| (plan, str_of(&id))).collect();
            }
            (key, setting) => {
                errors
                    .push(setting.key().span(), format!("`osb({name} ...)` is written `{}`", key.example()));
            }
        }
    }
    if osb.service_id.is_none() {
        errors.push(
            span,
            format!(
                "`osb(...)` needs `service_id`: add `{}` (a stable id, such as a GUID)",
                OsbKey::ServiceId.example()
            ),
        );
        return None;
    }
    Some(osb)
}
