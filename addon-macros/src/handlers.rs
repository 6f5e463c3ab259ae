//! Finds the handler methods in the impl block, strips their marker attributes, and checks
//! each signature's shape. Types are left to rustc, at the vendor's spans (see `expand`).

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ImplItem, ItemImpl, ReturnType, Type};

use crate::diagnostics::Errors;
use crate::symbol::Kind;

/// A method marked with one of the handler attributes.
pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) method: syn::Ident,
    /// The argument's declared type, where rustc reports a mismatch.
    pub(crate) argument: Type,
    /// The declared return type, where rustc reports a mismatch.
    pub(crate) output: Type,
}

/// Removes every marker from the impl's methods and returns the well-formed handlers.
pub(crate) fn collect(item: &mut ItemImpl, errors: &mut Errors) -> Vec<Handler> {
    let mut handlers: Vec<Handler> = Vec::new();
    let mut seen: Vec<(Kind, syn::Ident)> = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            for (kind, attr) in markers_on_other_items(impl_item) {
                let message =
                    format!("`#[{}]` goes on an `async fn` method, not on other items", kind.name());
                errors.push_spanned(&attr, message);
            }
            continue;
        };
        let markers = take_markers(&mut method.attrs, errors);
        let Some((kind, attr)) = markers.first() else {
            continue;
        };
        for (_, extra) in &markers[1..] {
            errors.push_spanned(
                extra,
                format!(
                    "`{}` is already marked `#[{}]`; a method handles one call",
                    method.sig.ident,
                    kind.name()
                ),
            );
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| k == kind) {
            errors.push_spanned(
                attr,
                format!(
                    "a second `#[{}]` method; `{first}` is already the `#[{}]` method",
                    kind.name(),
                    kind.name()
                ),
            );
            continue;
        }
        seen.push((*kind, method.sig.ident.clone()));
        if let Some(handler) = check_signature(*kind, &method.sig, errors) {
            handlers.push(handler);
        }
    }
    for kind in Kind::ALL.into_iter().filter(|k| k.required()) {
        if !seen.iter().any(|(k, _)| *k == kind) {
            errors.push(
                item.self_ty.span(),
                format!(
                    "no `#[{}]` method: Heroku always calls it, so add one, such as `#[{}] {} {{ ... }}`",
                    kind.name(),
                    kind.name(),
                    kind.example()
                ),
            );
        }
    }
    handlers
}

/// Strips the marker attributes from a method, returning them. Markers take no arguments.
fn take_markers(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Vec<(Kind, Attribute)> {
    let mut markers = Vec::new();
    attrs.retain(|attr| match marker_kind(attr) {
        Some(kind) => {
            match &attr.meta {
                syn::Meta::Path(_) => {}
                syn::Meta::List(list) => errors.push(
                    list.delimiter.span().join(),
                    format!("`#[{}]` takes no arguments; remove them", kind.name()),
                ),
                syn::Meta::NameValue(nv) => {
                    errors.push_spanned(&nv.value, format!("`#[{}]` takes no value; remove it", kind.name()))
                }
            }
            markers.push((kind, attr.clone()));
            false
        }
        None => true,
    });
    markers
}

/// `#[provision]`, or a path ending in it (`#[addon_runtime::provision]`).
fn marker_kind(attr: &Attribute) -> Option<Kind> {
    let last = attr.path().segments.last()?;
    Kind::from_name(&last.ident.to_string())
}

fn markers_on_other_items(item: &mut ImplItem) -> Vec<(Kind, Attribute)> {
    let attrs = match item {
        ImplItem::Const(c) => &mut c.attrs,
        ImplItem::Type(t) => &mut t.attrs,
        ImplItem::Macro(m) => &mut m.attrs,
        _ => return Vec::new(),
    };
    let mut found = Vec::new();
    attrs.retain(|attr| match marker_kind(attr) {
        Some(kind) => {
            found.push((kind, attr.clone()));
            false
        }
        None => true,
    });
    found
}

/// `async fn name(&self, arg: T) -> R`, with no generics. Every deviation is reported at the
/// token that deviates.
fn check_signature(kind: Kind, sig: &syn::Signature, errors: &mut Errors) -> Option<Handler> {
    let name = kind.name();
    let mut ok = true;
    if sig.asyncness.is_none() {
        errors
            .push(sig.fn_token.span, format!("`#[{name}]` methods must be `async fn`: `{}`", kind.example()));
        ok = false;
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push_spanned(&sig.generics, format!("`#[{name}]` methods cannot be generic"));
        ok = false;
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() => {}
        Some(FnArg::Receiver(receiver)) => {
            let message =
                format!("`#[{name}]` methods take `&self`; the runtime shares one value between requests");
            match receiver.mutability {
                Some(mutability) => errors.push(mutability.span, message),
                None => errors.push_spanned(receiver, message),
            }
            ok = false;
        }
        _ => {
            errors.push(
                sig.ident.span(),
                format!("`#[{name}]` methods take `&self` first: `{}`", kind.example()),
            );
            return None;
        }
    }
    let argument = match (inputs.next(), inputs.next()) {
        (Some(FnArg::Typed(arg)), None) => Some((*arg.ty).clone()),
        (None, _) => {
            errors.push(
                sig.paren_token.span.join(),
                format!("`#[{name}]` methods take one argument after `&self`: `{}`", kind.example()),
            );
            None
        }
        (_, Some(extra)) => {
            errors.push_spanned(
                extra,
                format!("`#[{name}]` methods take one argument after `&self`: `{}`", kind.example()),
            );
            None
        }
        (Some(other), None) => {
            errors.push(other.span(), format!("`#[{name}]` methods take one argument after `&self`"));
            None
        }
    };
    let output = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            errors.push(
                sig.ident.span(),
                format!(
                    "`#[{name}]` methods must return `Result<{}, AddonError>`: `{}`",
                    kind.success(),
                    kind.example()
                ),
            );
            None
        }
    };
    match (ok, argument, output) {
        (true, Some(argument), Some(output)) => {
            Some(Handler { kind, method: sig.ident.clone(), argument, output })
        }
        _ => None,
    }
}
