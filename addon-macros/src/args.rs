//! Parses `#[heroku_addon(key = value, ...)]` into [`Args`]: each known key once, with a value of
//! the shape the key takes, every value with its span so that errors point at the exact literal.
//! What the values mean is the declaration's business (`declaration.rs`).

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Ident, LitInt, LitStr, Token};

use crate::diagnostics::Errors;
use crate::osb_args::{self, OsbArgs};
use crate::symbol::{self, Key, Shape};

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

/// `key(name = "value", ...)`, or `key` alone (no settings: every default): each setting's name
/// and value, and the span of the whole.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) entries: Vec<(String, Str)>,
    pub(crate) span: Span,
}

impl Settings {
    pub(crate) fn get(&self, name: &str) -> Option<&Str> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, value)| value)
    }
}

/// A value of the shape its key takes.
pub(crate) enum Value {
    Str(Str),
    List(List),
    Port(u16, Span),
    Group(Settings),
    Osb(OsbArgs),
}

impl Value {
    fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span,
            Value::List(l) => l.span,
            Value::Port(_, span) => *span,
            Value::Group(g) => g.span,
            Value::Osb(osb) => osb.span,
        }
    }
}

/// What the attribute declared, in the order written. Required keys may be missing here;
/// [`Args::parse`] reports them.
#[derive(Default)]
pub(crate) struct Args {
    entries: Vec<(Key, Value)>,
}

/// One `key = value` as written, before its key is known to be valid.
struct Entry {
    key: Ident,
    value: Written,
}

enum Written {
    Str(LitStr),
    List(Vec<LitStr>, Span),
    Int(LitInt),
    /// `key` alone (no tokens), or `key(...)`: the tokens inside, parsed by the key's own rules,
    /// and the span of the whole.
    Group(TokenStream, Span),
}

/// One `name = "value"` inside `key(...)`.
fn parse_setting(input: ParseStream<'_>) -> syn::Result<(Ident, LitStr)> {
    let name = input.call(Ident::parse_any)?;
    input.parse::<Token![=]>()?;
    if !input.peek(LitStr) {
        let expr: syn::Expr = input.parse()?;
        return Err(syn::Error::new(
            expr.span(),
            format!("`{name}` takes a string literal, such as `{name} = \"...\"`"),
        ));
    }
    Ok((name, input.parse()?))
}

/// The settings inside `key(...)`, for keys whose settings are all `name = "value"`.
fn settings_parser(input: ParseStream<'_>) -> syn::Result<Punctuated<(Ident, LitStr), Token![,]>> {
    Punctuated::parse_terminated_with(input, parse_setting)
}

/// `key` alone (followed by `,` or the end) or `key(...)`.
fn parse_group(key: &Ident, input: ParseStream<'_>) -> syn::Result<Option<Written>> {
    if input.is_empty() || input.peek(Token![,]) {
        return Ok(Some(Written::Group(TokenStream::new(), key.span())));
    }
    if !input.peek(syn::token::Paren) {
        return Ok(None);
    }
    let content;
    let paren = syn::parenthesized!(content in input);
    Ok(Some(Written::Group(content.parse()?, paren.span.join())))
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `parse_any`, for the keyword `crate`.
        let key = input.call(Ident::parse_any)?;
        if let Some(group) = parse_group(&key, input)? {
            return Ok(Entry { key, value: group });
        }
        input.parse::<Token![=]>()?;
        let value = if input.peek(LitStr) {
            Written::Str(input.parse()?)
        } else if input.peek(LitInt) {
            Written::Int(input.parse()?)
        } else if input.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
            Written::List(items.into_iter().collect(), bracket.span.join())
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
        // A key given with a value of the wrong kind is reported as that, not also as missing.
        let mut given = Vec::new();
        for entry in entries {
            let name = entry.key.unraw().to_string();
            let Some(key) = Key::from_name(&name) else {
                let names = Key::names();
                let hint = match symbol::closest(&name, &names) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => String::new(),
                };
                let message = format!("unknown key `{name}`: expected one of {}{hint}", symbol::list(&names));
                errors.push(entry.key.span(), message);
                continue;
            };
            if given.contains(&key) {
                errors.push(entry.key.span(), format!("`{name}` is given twice; keep one"));
                continue;
            }
            given.push(key);
            if let Some(value) = shaped(key, entry.value, errors) {
                args.entries.push((key, value));
            }
        }
        for key in Key::ALL {
            if let (Some(example), false) = (key.required_example(), given.contains(&key)) {
                errors.push(
                    Span::call_site(),
                    format!("`#[heroku_addon]` needs `{}`: add `{example}` to the attribute", key.name()),
                );
            }
        }
        args
    }

    /// The keys given, with their values, in the order written.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Key, &Value)> {
        self.entries.iter().map(|(key, value)| (*key, value))
    }

    pub(crate) fn get(&self, key: Key) -> Option<&Value> {
        self.entries().find(|(k, _)| *k == key).map(|(_, value)| value)
    }

    pub(crate) fn str(&self, key: Key) -> Option<&Str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn list(&self, key: Key) -> Option<&List> {
        match self.get(key)? {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Where the key's value was written.
    pub(crate) fn span(&self, key: Key) -> Option<Span> {
        self.get(key).map(Value::span)
    }

    /// Where the list's `index`th element was written.
    pub(crate) fn item_span(&self, key: Key, index: usize) -> Option<Span> {
        self.list(key)?.items.get(index).map(|item| item.span)
    }
}

/// The value in the shape its key takes; `None`, with the error, when it was written otherwise.
fn shaped(key: Key, value: Written, errors: &mut Errors) -> Option<Value> {
    let name = key.name();
    match (key.shape(), value) {
        (Shape::Group, Written::Group(tokens, span)) => match key {
            Key::Osb => return osb_args::parse(tokens, span, errors).map(Value::Osb),
            _ => match settings_parser.parse2(tokens) {
                Ok(settings) => return grouped(key, settings.into_iter().collect(), span, errors),
                Err(error) => errors.push_error(error),
            },
        },
        (Shape::Group, Written::Str(lit)) => errors.push(lit.span(), group_usage(key)),
        (Shape::Group, Written::Int(lit)) => errors.push(lit.span(), group_usage(key)),
        (Shape::Group, Written::List(_, span)) => errors.push(span, group_usage(key)),
        (_, Written::Group(_, span)) => {
            errors.push(span, format!("`{name}` takes a value: write `{name} = ...`"))
        }
        (Shape::Str, Written::Str(lit)) => return Some(Value::Str(Str::from_lit(&lit))),
        (Shape::Str, Written::List(_, span)) => {
            errors.push(span, format!("`{name}` takes one string, such as `{name} = \"...\"`"))
        }
        (Shape::Str, Written::Int(lit)) => {
            errors.push(lit.span(), format!("`{name}` takes a string: write `{name} = \"{lit}\"`"))
        }
        (Shape::List, Written::List(items, span)) => {
            return Some(Value::List(List { items: items.iter().map(Str::from_lit).collect(), span }))
        }
        (Shape::List, Written::Str(lit)) => errors.push(
            lit.span(),
            format!("`{name}` takes a list: write `{name} = [{}]`", quote::ToTokens::to_token_stream(&lit)),
        ),
        (Shape::List, Written::Int(lit)) => {
            errors.push(lit.span(), format!("`{name}` takes a list of strings, such as `[\"...\"]`"))
        }
        (Shape::Port, Written::Int(lit)) => match lit.base10_parse::<u16>() {
            Ok(port) if port > 0 => return Some(Value::Port(port, lit.span())),
            _ => errors.push(lit.span(), "`port` must be a TCP port from 1 to 65535"),
        },
        (Shape::Port, Written::Str(lit)) => {
            errors.push(lit.span(), "`port` takes a number: write `port = 5000` without quotes")
        }
        (Shape::Port, Written::List(_, span)) => {
            errors.push(span, "`port` takes one number, such as `port = 5000`")
        }
    }
    None
}

fn group_usage(key: Key) -> String {
    let name = key.name();
    match key {
        Key::Osb => format!("`{name}` takes its settings in parentheses: `{name}(service_id = \"...\")`"),
        _ => format!(
            "`{name}` takes settings in parentheses: write `{name}` alone, or `{name}(base_path = \"/{name}\")`"
        ),
    }
}

/// The settings of `key(...)`: each a known name, once; every problem reported.
fn grouped(key: Key, written: Vec<(Ident, LitStr)>, span: Span, errors: &mut Errors) -> Option<Value> {
    let known = symbol::DIGITALOCEAN_KEYS;
    let mut settings = Settings { entries: Vec::new(), span };
    let mut clean = true;
    for (ident, lit) in written {
        let name = ident.unraw().to_string();
        if !known.contains(&name.as_str()) {
            let hint = match symbol::closest(&name, &known) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => String::new(),
            };
            errors.push(
                ident.span(),
                format!(
                    "unknown setting `{name}` in `{}(...)`: expected one of {}{hint}",
                    key.name(),
                    symbol::list(&known)
                ),
            );
            clean = false;
        } else if settings.get(&name).is_some() {
            errors.push(ident.span(), format!("`{name}` is given twice in `{}(...)`; keep one", key.name()));
            clean = false;
        } else {
            settings.entries.push((name, Str::from_lit(&lit)));
        }
    }
    clean.then_some(Value::Group(settings))
}
