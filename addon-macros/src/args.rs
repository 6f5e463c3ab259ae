//! Parses `#[heroku_addon(key = value, ...)]` into [`Args`], keeping every value's span so that
//! errors point at the exact literal.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Ident, LitInt, LitStr, Token};

use crate::diagnostics::Errors;
use crate::symbol::{self, KEYS};

/// A string value and where it was written.
#[derive(Clone)]
pub(crate) struct Str {
    pub(crate) value: String,
    pub(crate) span: Span,
}

impl Str {
    fn from_lit(lit: &LitStr) -> Self {
        Str { value: lit.value(), span: lit.span() }
    }
}

/// A list value: its elements, and the span of the whole `[...]`.
#[derive(Clone)]
pub(crate) struct List {
    pub(crate) items: Vec<Str>,
    pub(crate) span: Span,
}

/// What the attribute declared. Required keys may be missing here; [`Args::parse`] reports them.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) id: Option<Str>,
    pub(crate) name: Option<Str>,
    pub(crate) config_vars: Option<List>,
    pub(crate) config_vars_prefix: Option<Str>,
    pub(crate) regions: Option<List>,
    pub(crate) requires: Option<List>,
    pub(crate) production: Option<Str>,
    pub(crate) base_path: Option<Str>,
    pub(crate) sso_path: Option<Str>,
    pub(crate) port: Option<(u16, Span)>,
    pub(crate) manifest: Option<Str>,
    /// Every known key that was written, whether or not its value was usable: a key given with a
    /// value of the wrong kind is reported as that, not also as missing.
    given: Vec<String>,
}

/// One `key = value` as written, before its key is known to be valid.
struct Entry {
    key: Ident,
    value: Value,
}

enum Value {
    Str(LitStr),
    List(Vec<LitStr>, Span),
    Int(LitInt),
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = if input.peek(LitStr) {
            Value::Str(input.parse()?)
        } else if input.peek(LitInt) {
            Value::Int(input.parse()?)
        } else if input.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
            Value::List(items.into_iter().collect(), bracket.span.join())
        } else {
            let expr: syn::Expr = input.parse()?;
            return Err(syn::Error::new(
                expr.span(),
                format!("`{key}` takes a string literal, a list of string literals or a number"),
            ));
        };
        Ok(Entry { key, value })
    }
}

impl Args {
    /// Parses the attribute's tokens. Syntax errors end parsing; everything else (unknown keys,
    /// wrong value kinds, missing keys) is collected and parsing goes on.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
        let entries = match Punctuated::<Entry, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push_error(error);
                return Args::default();
            }
        };
        let mut args = Args::default();
        for entry in entries {
            args.take(entry, errors);
        }
        for (key, example) in [
            (symbol::ID, "id = \"acme-logs\""),
            (symbol::NAME, "name = \"Acme Logs\""),
            (symbol::CONFIG_VARS, "config_vars = [\"ACME_LOGS_URL\"]"),
            (symbol::PRODUCTION, "production = \"https://logs.acme.example\""),
        ] {
            if !args.given.iter().any(|given| given == key) {
                errors.push(
                    Span::call_site(),
                    format!("`#[heroku_addon]` needs `{key}`: add `{example}` to the attribute"),
                );
            }
        }
        args
    }

    fn take(&mut self, entry: Entry, errors: &mut Errors) {
        let key = entry.key.to_string();
        let span = entry.key.span();
        if KEYS.contains(&key.as_str()) {
            self.given.push(key.clone());
        }
        let slot_taken = match key.as_str() {
            symbol::ID => set_str(&mut self.id, &key, entry.value, errors),
            symbol::NAME => set_str(&mut self.name, &key, entry.value, errors),
            symbol::CONFIG_VARS_PREFIX => set_str(&mut self.config_vars_prefix, &key, entry.value, errors),
            symbol::PRODUCTION => set_str(&mut self.production, &key, entry.value, errors),
            symbol::BASE_PATH => set_str(&mut self.base_path, &key, entry.value, errors),
            symbol::SSO_PATH => set_str(&mut self.sso_path, &key, entry.value, errors),
            symbol::MANIFEST => set_str(&mut self.manifest, &key, entry.value, errors),
            symbol::CONFIG_VARS => set_list(&mut self.config_vars, &key, entry.value, errors),
            symbol::REGIONS => set_list(&mut self.regions, &key, entry.value, errors),
            symbol::REQUIRES => set_list(&mut self.requires, &key, entry.value, errors),
            symbol::PORT => set_port(&mut self.port, entry.value, errors),
            _ => {
                let hint = match symbol::closest(&key, KEYS) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => String::new(),
                };
                errors
                    .push(span, format!("unknown key `{key}`: expected one of {}{hint}", symbol::list(KEYS)));
                false
            }
        };
        if slot_taken {
            errors.push(span, format!("`{key}` is given twice; keep one"));
        }
    }
}

/// Stores a string value; returns whether the key had been given before.
fn set_str(slot: &mut Option<Str>, key: &str, value: Value, errors: &mut Errors) -> bool {
    let taken = slot.is_some();
    match value {
        Value::Str(lit) => *slot = Some(Str::from_lit(&lit)),
        Value::List(_, span) => {
            errors.push(span, format!("`{key}` takes one string, such as `{key} = \"...\"`"))
        }
        Value::Int(lit) => {
            errors.push(lit.span(), format!("`{key}` takes a string: write `{key} = \"{lit}\"`"))
        }
    }
    taken
}

fn set_list(slot: &mut Option<List>, key: &str, value: Value, errors: &mut Errors) -> bool {
    let taken = slot.is_some();
    match value {
        Value::List(items, span) => {
            *slot = Some(List { items: items.iter().map(Str::from_lit).collect(), span })
        }
        Value::Str(lit) => errors.push(
            lit.span(),
            format!("`{key}` takes a list: write `{key} = [{}]`", quote::ToTokens::to_token_stream(&lit)),
        ),
        Value::Int(lit) => {
            errors.push(lit.span(), format!("`{key}` takes a list of strings, such as `[\"...\"]`"))
        }
    }
    taken
}

fn set_port(slot: &mut Option<(u16, Span)>, value: Value, errors: &mut Errors) -> bool {
    let taken = slot.is_some();
    match value {
        Value::Int(lit) => match lit.base10_parse::<u16>() {
            Ok(port) if port > 0 => *slot = Some((port, lit.span())),
            _ => errors.push(lit.span(), "`port` must be a TCP port from 1 to 65535"),
        },
        Value::Str(lit) => {
            errors.push(lit.span(), "`port` takes a number: write `port = 5000` without quotes")
        }
        Value::List(_, span) => errors.push(span, "`port` takes one number, such as `port = 5000`"),
    }
    taken
}
