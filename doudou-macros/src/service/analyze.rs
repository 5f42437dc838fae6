//! Stage one: the trait as written -> a validated [`ServiceDef`], or the trait to re-emit and
//! every problem found.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ItemTrait, LitStr, Pat, ReturnType, TraitItem, TraitItemFn, Type};

use super::{doc_string, Errors, Method, Param, Place, ServiceDef, Verb};
use crate::args::{rename, RENAME_RULES};
use crate::rules;

/// Method names the generated client and server use for themselves.
const RESERVED: &[&str] = &["new", "discover", "with_client", "from_arc", "describe"];

/// The prefix of the names the generated code gives its own locals.
const GENERATED_PREFIX: &str = "__doudou";

/// The most parameters a method takes (the runtime's `MAX_PARAMS`).
const MAX_PARAMS: usize = 16;

/// `#[doudou::service]`'s arguments, in any order: `crate = "path"` and `rename_all = "rule"`
/// (serde's rules: what the parameters are named on the wire, `camelCase` for go-doudou's).
fn service_args(input: ParseStream<'_>) -> syn::Result<(syn::Path, Option<String>)> {
    let mut krate = syn::parse_quote!(::doudou);
    let mut rename_all = None;
    while !input.is_empty() {
        let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<syn::Token![=]>()?;
        let lit: LitStr = input.parse()?;
        match key.to_string().as_str() {
            "crate" => krate = lit.parse()?,
            "rename_all" if RENAME_RULES.contains(&lit.value().as_str()) => {
                rename_all = Some(lit.value());
            }
            "rename_all" => {
                return Err(syn::Error::new_spanned(
                    &lit,
                    format!("unknown rule; `rename_all` takes one of {}", RENAME_RULES.join(", ")),
                ))
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &key,
                    "expected `crate = \"path\"` or `rename_all = \"camelCase\"`",
                ))
            }
        }
        if !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
        }
    }
    Ok((krate, rename_all))
}

/// `Err` only when the item is not a trait at all; problems inside a trait come back as the
/// trait to re-emit with its errors.
#[allow(clippy::type_complexity)]
pub(super) fn analyze(
    attr: TokenStream,
    item: TokenStream,
) -> syn::Result<Result<ServiceDef, (ItemTrait, syn::Error)>> {
    let mut errors = Errors::default();
    let (krate, rename_all) = match service_args.parse2(attr) {
        Ok(args) => args,
        Err(e) => {
            errors.push(e);
            (syn::parse_quote!(::doudou), None)
        }
    };
    let mut item: ItemTrait = syn::parse2(item).map_err(|e| {
        syn::Error::new(e.span(), "#[doudou::service] applies to a trait: `pub trait Users { ... }`")
    })?;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(&item.generics, "a service trait cannot be generic"));
    }
    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(f) => {
                if let Some(m) = method(f, rename_all.as_deref(), &mut errors) {
                    methods.push(m);
                }
            }
            other => {
                errors.push(syn::Error::new_spanned(other, "a service trait holds only `async fn` methods"))
            }
        }
    }
    check_clashes(&methods, &mut errors);
    strip_route_attrs(&mut item);
    Ok(match errors.0 {
        Some(e) => Err((item, e)),
        None => Ok(ServiceDef { item, krate, methods }),
    })
}

/// Takes off the attributes only the macro understands: routes, and parameters' rules.
fn strip_route_attrs(item: &mut ItemTrait) {
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| route_attr_verb(a).is_none());
            for input in &mut f.sig.inputs {
                if let FnArg::Typed(pt) = input {
                    pt.attrs.retain(|a| !rules::is_validate(a) && !is_doudou(a));
                }
            }
        }
    }
}

fn is_doudou(attr: &Attribute) -> bool {
    attr.path().is_ident("doudou")
}

/// A parameter's name on the wire and where it is read from. `#[doudou(name = "pageSize")]`
/// names it; otherwise it is its identifier without `r#` (`r#type` is `type`), renamed by the
/// service's `rename_all`, or for a header (`#[doudou(header)]`) with `-` for `_` (`x_tenant`
/// is `x-tenant`). `#[doudou(cookie)]` reads a cookie.
fn wire_name(
    ident: &syn::Ident,
    attrs: &[Attribute],
    rename_all: Option<&str>,
) -> syn::Result<(String, Place)> {
    let plain = syn::ext::IdentExt::unraw(ident).to_string();
    let mut named = None;
    let mut place = Place::ByType;
    for attr in attrs.iter().filter(|a| is_doudou(a)) {
        attr.parse_nested_meta(|meta| {
            let chosen = if meta.path.is_ident("header") {
                Place::Header
            } else if meta.path.is_ident("cookie") {
                Place::Cookie
            } else if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                let value = lit.value();
                if value.is_empty() || value.contains(['{', '}', '/', '?', '&', '=', '#', ' ', ';', ',', ':']) {
                    return Err(syn::Error::new_spanned(
                        &lit,
                        "a parameter's name must be non-empty and without `{ } / ? & = # ; , :` or spaces",
                    ));
                }
                named = Some(value);
                return Ok(());
            } else {
                return Err(meta.error(
                    "unknown key: `#[doudou(name = \"...\")]` names the parameter on the wire, `#[doudou(header)]` and `#[doudou(cookie)]` read it from a header or a cookie",
                ));
            };
            if place != Place::ByType && place != chosen {
                return Err(meta.error("a parameter is read from a header or from a cookie, not both"));
            }
            place = chosen;
            Ok(())
        })?;
    }
    let name = match (named, place) {
        (Some(name), _) => name,
        (None, Place::Header) => plain.replace('_', "-"),
        (None, _) => rename_all.map_or_else(|| plain.clone(), |rule| rename(&plain, rule)),
    };
    let is_token =
        |name: &str| name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if place != Place::ByType && !is_token(&name) {
        return Err(syn::Error::new_spanned(
            ident,
            format!("`{name}` cannot be a header or cookie name: use letters, digits and `-`"),
        ));
    }
    Ok((name, place))
}

fn route_attr_verb(attr: &Attribute) -> Option<Verb> {
    Verb::from_word(&attr.path().get_ident()?.to_string())
}

fn method(f: &TraitItemFn, rename_all: Option<&str>, errors: &mut Errors) -> Option<Method> {
    let sig = &f.sig;
    let mut problems = Errors::default();
    let fail = &mut |e: syn::Error| problems.push(e);
    if sig.asyncness.is_none() {
        fail(syn::Error::new_spanned(sig.fn_token, "service methods must be `async fn`"));
    }
    if let Some(body) = &f.default {
        fail(syn::Error::new_spanned(body, "service methods cannot have a default body"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        fail(syn::Error::new_spanned(&sig.generics, "service methods cannot be generic"));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) => fail(syn::Error::new_spanned(r, "service methods take `&self`")),
        Some(other) => fail(syn::Error::new_spanned(other, "service methods take `&self` first")),
        None => fail(syn::Error::new_spanned(&sig.ident, "service methods take `&self`")),
    }
    let name = sig.ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
    if name.starts_with(GENERATED_PREFIX) {
        fail(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "names starting with `{GENERATED_PREFIX}` are kept for the generated code; rename the method"
            ),
        ));
    }
    if RESERVED.contains(&name.as_str()) {
        fail(syn::Error::new_spanned(
            &sig.ident,
            format!("`{name}` clashes with a method of the generated client or server; rename it"),
        ));
    }

    // The route: an attribute, or the name convention.
    let mut route = None;
    let mut attrs = Vec::new();
    for attr in &f.attrs {
        let Some(verb) = route_attr_verb(attr) else {
            attrs.push(attr.clone());
            continue;
        };
        match attr.parse_args::<LitStr>() {
            Ok(lit) if route.is_some() => {
                fail(syn::Error::new_spanned(lit, "only one route attribute per method"))
            }
            Ok(lit) => {
                if !lit.value().starts_with('/') {
                    fail(syn::Error::new_spanned(&lit, "a route path starts with `/`"));
                }
                route = Some((verb, lit.value(), Some(lit)));
            }
            Err(_) => fail(syn::Error::new_spanned(attr, "expected a path: `#[get(\"/users/{id}\")]`")),
        }
    }
    let (verb, path, path_lit) = route.unwrap_or_else(|| {
        let (verb, path) = route_from_name(&name);
        (verb, path, None)
    });
    let path_names = path_params(&path);

    let mut params = Vec::new();
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else { continue };
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() && p.mutability.is_none() => {
                p.ident.clone()
            }
            other => {
                fail(syn::Error::new_spanned(
                    other,
                    "parameters must be plain names: they name the query, form or path parameter",
                ));
                continue;
            }
        };
        if ident.to_string().starts_with(GENERATED_PREFIX) {
            fail(syn::Error::new_spanned(
                &ident,
                format!("names starting with `{GENERATED_PREFIX}` are kept for the generated code; rename the parameter"),
            ));
        }
        if let Err(e) = check_type(&pt.ty) {
            fail(e);
            continue;
        }
        let rules = match rules::parse(&pt.attrs).and_then(|r| rules::check_param_rules(&r).map(|()| r)) {
            Ok(rules) => rules,
            Err(e) => {
                fail(e);
                continue;
            }
        };
        let (name, place) = match wire_name(&ident, &pt.attrs, rename_all) {
            Ok(named) => named,
            Err(e) => {
                fail(e);
                continue;
            }
        };
        if params.iter().any(|p: &Param| p.name == name && p.place == place) {
            fail(syn::Error::new_spanned(
                &ident,
                format!("another parameter of this method is already named `{name}` on the wire"),
            ));
        }
        let attrs = pt.attrs.iter().filter(|a| !rules::is_validate(a) && !is_doudou(a)).cloned().collect();
        let in_path = place == Place::ByType && path_names.contains(&name);
        params.push(Param { ident, name, attrs, ty: (*pt.ty).clone(), in_path, place, rules });
    }
    if params.len() > MAX_PARAMS {
        fail(syn::Error::new_spanned(
            &sig.inputs,
            format!(
                "a service method takes at most {MAX_PARAMS} parameters; group some in a #[doudou::model]"
            ),
        ));
    }
    for name in &path_names {
        let named = |pt: &syn::PatType| match &*pt.pat {
            Pat::Ident(p) => wire_name(&p.ident, &pt.attrs, rename_all)
                .is_ok_and(|(n, place)| n == *name && place == Place::ByType),
            _ => false,
        };
        if !sig.inputs.iter().any(|i| matches!(i, FnArg::Typed(pt) if named(pt))) {
            let span = path_lit.as_ref().map_or_else(|| sig.ident.span(), Spanned::span);
            fail(syn::Error::new(
                span,
                format!("the path parameter `{{{name}}}` has no method parameter of that name"),
            ));
        }
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            fail(syn::Error::new_spanned(&sig.ident, "service methods return `Result<T, doudou::Error>`"));
            None
        }
    };
    let found = problems.0.is_some();
    if let Some(e) = problems.0 {
        errors.push(e);
    }
    if found {
        return None;
    }
    Some(Method { ident: sig.ident.clone(), attrs, doc: doc_string(&f.attrs), verb, path, params, ret: ret? })
}

/// Parameter types the binding cannot take, refused with what to write instead.
fn check_type(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Reference(r) => {
            let is_str = matches!(&*r.elem, Type::Path(p) if p.path.is_ident("str"));
            let message = if is_str {
                "a parameter is an owned value: use `String` instead of `&str`"
            } else {
                "a parameter is an owned value (the request is gone when the method runs): take the type, not a reference"
            };
            Err(syn::Error::new_spanned(ty, message))
        }
        Type::ImplTrait(_) => Err(syn::Error::new_spanned(
            ty,
            "a parameter cannot be `impl Trait`: binding needs the concrete type; name it",
        )),
        Type::Paren(p) => check_type(&p.elem),
        Type::Group(g) => check_type(&g.elem),
        _ => Ok(()),
    }
}

/// go-doudou's convention in snake_case: a leading verb word is the verb (POST otherwise),
/// the other words joined by `/` are the path.
fn route_from_name(name: &str) -> (Verb, String) {
    let mut words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let verb = words.first().and_then(|w| Verb::from_word(w));
    if verb.is_some() {
        words.remove(0);
    }
    (verb.unwrap_or(Verb::Post), format!("/{}", words.join("/")))
}

/// The parameter names of a route template, a catch-all's `*` removed.
fn path_params(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        names.push(rest[start + 1..start + len].trim_start_matches('*').to_owned());
        rest = &rest[start + len..];
    }
    names
}

fn check_clashes(methods: &[Method], errors: &mut Errors) {
    for (i, m) in methods.iter().enumerate() {
        if let Some(first) = methods[..i].iter().find(|o| o.verb == m.verb && o.path == m.path) {
            errors.push(syn::Error::new_spanned(
                &m.ident,
                format!(
                    "`{}` has the same route as `{}` ({} {}); give one of them a route attribute",
                    m.ident,
                    first.ident,
                    m.verb.method_const(),
                    m.path
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_go_doudou_convention() {
        let cases = [
            ("get_user", Verb::Get, "/user"),
            ("page_users", Verb::Post, "/page/users"),
            ("sign_up", Verb::Post, "/sign/up"),
            ("get", Verb::Get, "/"),
            ("delete_user", Verb::Delete, "/user"),
            ("put_user_name", Verb::Put, "/user/name"),
            ("patch_user", Verb::Patch, "/user"),
            ("getter", Verb::Post, "/getter"),
        ];
        for (name, verb, path) in cases {
            let (v, p) = route_from_name(name);
            assert!(v == verb && p == path, "{name} -> {p}");
        }
    }

    #[test]
    fn path_parameters_are_found() {
        assert_eq!(path_params("/users/{id}/posts/{post_id}"), vec!["id", "post_id"]);
        assert_eq!(path_params("/files/{*rest}"), vec!["rest"]);
        assert!(path_params("/plain").is_empty());
    }

    #[test]
    fn references_and_impl_trait_are_refused_with_what_to_write() {
        let err = |ty: Type| check_type(&ty).expect_err("refused").to_string();
        assert!(err(syn::parse_quote!(&str)).contains("use `String`"));
        assert!(err(syn::parse_quote!(&'static [u8])).contains("not a reference"));
        assert!(err(syn::parse_quote!(impl Into<String>)).contains("impl Trait"));
        assert!(check_type(&syn::parse_quote!(Option<u64>)).is_ok());
    }
}
