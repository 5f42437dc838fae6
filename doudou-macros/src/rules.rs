//! `#[validate(...)]` rules, in the `validator` crate's syntax, on the fields of a
//! `#[doudou::model]` and on the parameters of a service method: parsed here, turned into
//! calls on the runtime's `Report` (the check) and, for parameters, into `Rule`s (the document;
//! schemars reads the same attributes on model fields).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, LitStr, Path};

const SUPPORTED: &str = "length, range, email, url, regex, contains, required, nested and custom";

/// One rule and its optional `message = "..."`.
pub(crate) struct Rule {
    kind: Kind,
    message: Option<LitStr>,
    span: Span,
}

enum Kind {
    Length { min: Option<Expr>, max: Option<Expr>, equal: Option<Expr> },
    Range { min: Option<Expr>, max: Option<Expr> },
    Email,
    Url,
    Pattern(LitStr),
    RegexPath(Path),
    Contains(LitStr),
    Required,
    Nested,
    Custom(Path),
}

/// Whether an attribute is a `#[validate(...)]`.
pub(crate) fn is_validate(attr: &Attribute) -> bool {
    attr.path().is_ident("validate")
}

/// The rules of every `#[validate(...)]` in `attrs`.
pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Vec<Rule>> {
    let mut rules = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for attr in attrs.iter().filter(|a| is_validate(a)) {
        let parsed = attr.parse_nested_meta(|meta| {
            rules.push(rule(&meta)?);
            Ok(())
        });
        if let Err(e) = parsed {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(rules),
    }
}

fn rule(meta: &ParseNestedMeta<'_>) -> syn::Result<Rule> {
    let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
    let span = meta.path.span();
    let has_list = meta.input.peek(syn::token::Paren);
    let mut message = None;
    let kind = match name.as_str() {
        "length" | "range" => {
            let (mut min, mut max, mut equal) = (None, None, None);
            meta.parse_nested_meta(|inner| {
                let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                match key.as_str() {
                    "min" => min = Some(bound(&inner)?),
                    "max" => max = Some(bound(&inner)?),
                    "equal" if name == "length" => equal = Some(bound(&inner)?),
                    "message" => message = Some(inner.value()?.parse()?),
                    _ => {
                        return Err(inner.error(if name == "length" {
                            "`length` takes `min`, `max`, `equal` and `message`"
                        } else {
                            "`range` takes `min`, `max` and `message` (exclusive bounds are not supported: adjust the bound)"
                        }))
                    }
                }
                Ok(())
            })?;
            if name == "length" {
                if equal.is_some() && (min.is_some() || max.is_some()) {
                    return Err(meta.error("`length` takes `equal` or `min`/`max`, not both"));
                }
                if min.is_none() && max.is_none() && equal.is_none() {
                    return Err(meta.error("`length` needs `min`, `max` or `equal`"));
                }
                Kind::Length { min, max, equal }
            } else {
                if min.is_none() && max.is_none() {
                    return Err(meta.error("`range` needs `min` or `max`"));
                }
                Kind::Range { min, max }
            }
        }
        "email" | "url" | "required" | "nested" => {
            if has_list {
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("message") && name != "nested" {
                        message = Some(inner.value()?.parse()?);
                        Ok(())
                    } else {
                        Err(inner.error(format!("`{name}` takes only `message`")))
                    }
                })?;
            }
            match name.as_str() {
                "email" => Kind::Email,
                "url" => Kind::Url,
                "required" => Kind::Required,
                _ => Kind::Nested,
            }
        }
        "regex" | "contains" | "custom" => {
            let mut pattern: Option<LitStr> = None;
            let mut path: Option<Path> = None;
            if has_list {
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("message") {
                        message = Some(inner.value()?.parse()?);
                    } else if inner.path.is_ident("pattern") && name != "custom" {
                        pattern = Some(inner.value()?.parse()?);
                    } else if (inner.path.is_ident("path") && name == "regex")
                        || (inner.path.is_ident("function") && name == "custom")
                    {
                        path = Some(path_value(&inner)?);
                    } else {
                        return Err(inner.error(match name.as_str() {
                            "regex" => {
                                "`regex` takes `pattern = \"...\"` or `path = \"STATIC\"`, and `message`"
                            }
                            "contains" => "`contains` takes `pattern = \"...\"` and `message`",
                            _ => "`custom` takes `function = \"path::to::function\"` and `message`",
                        }));
                    }
                    Ok(())
                })?;
            } else if name == "contains" {
                pattern = Some(meta.value()?.parse()?);
            } else {
                path = Some(path_value(meta)?);
            }
            match (name.as_str(), pattern, path) {
                ("regex", Some(p), None) => {
                    check_pattern(&p)?;
                    Kind::Pattern(p)
                }
                ("regex", None, Some(p)) => Kind::RegexPath(p),
                ("contains", Some(p), None) => Kind::Contains(p),
                ("custom", None, Some(f)) => Kind::Custom(f),
                _ => return Err(meta.error(format!("`{name}` needs one pattern, path or function"))),
            }
        }
        _ => {
            return Err(syn::Error::new(
                span,
                format!("`{}` is not a rule doudou checks; the rules are {SUPPORTED}", path_text(&meta.path)),
            ))
        }
    };
    Ok(Rule { kind, message, span })
}

/// A bound: a number, a constant, or a constant's name in a string (schemars' spelling).
fn bound(meta: &ParseNestedMeta<'_>) -> syn::Result<Expr> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
            s.parse::<Path>().map(|p| syn::parse_quote!(#p))
        }
        _ => Ok(expr),
    }
}

/// `"path::to::item"` or `path::to::item`.
fn path_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => s.parse(),
        Expr::Path(p) => Ok(p.path),
        other => Err(syn::Error::new_spanned(other, "expected a path, e.g. `\"validate_name\"`")),
    }
}

/// Refuses a pattern the regex crate would not compile, where it is written.
fn check_pattern(pattern: &LitStr) -> syn::Result<()> {
    regex_syntax::Parser::new()
        .parse(&pattern.value())
        .map(drop)
        .map_err(|e| syn::Error::new_spanned(pattern, format!("invalid pattern: {e}")))
}

fn path_text(path: &Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

fn some<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn as_u64(e: Option<&Expr>) -> TokenStream {
    some(e.map(|e| quote!((#e) as u64)))
}

fn as_f64(e: Option<&Expr>) -> TokenStream {
    some(e.map(|e| quote!((#e) as f64)))
}

/// Whether `ty` is spelt `Option<..>`: a custom rule then checks the value inside, and an
/// absent one passes.
pub(crate) fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The calls that check `value` (an expression of a reference to the value, of the type `ty`)
/// against `rules`, failing under `field` in `report`.
pub(crate) fn checks(
    krate: &Path,
    rules: &[Rule],
    field: &str,
    (value, ty): (&TokenStream, &syn::Type),
    report: &TokenStream,
) -> TokenStream {
    let each = rules.iter().map(|rule| {
        let message = some(rule.message.as_ref());
        let span = rule.span;
        match &rule.kind {
            Kind::Length { min, max, equal } => {
                let (min, max, equal) = (as_u64(min.as_ref()), as_u64(max.as_ref()), as_u64(equal.as_ref()));
                quote_spanned!(span=> #report.length(#field, #value, (#min, #max, #equal), #message);)
            }
            Kind::Range { min, max } => {
                let (min, max) = (as_f64(min.as_ref()), as_f64(max.as_ref()));
                quote_spanned!(span=> #report.range(#field, #value, (#min, #max), #message);)
            }
            Kind::Email => quote_spanned!(span=> #report.email(#field, #value, #message);),
            Kind::Url => quote_spanned!(span=> #report.url(#field, #value, #message);),
            Kind::Pattern(p) => quote_spanned! {span=>
                {
                    static __DOUDOU_PATTERN: #krate::__private::Pattern = #krate::__private::Pattern::new(#p);
                    #report.pattern(#field, #value, &__DOUDOU_PATTERN, #message);
                }
            },
            Kind::RegexPath(p) => quote_spanned!(span=> #report.regex(#field, #value, &*#p, #message);),
            Kind::Contains(p) => quote_spanned!(span=> #report.contains(#field, #value, #p, #message);),
            Kind::Required => quote_spanned!(span=> #report.required(#field, #value, #message);),
            Kind::Nested => quote_spanned!(span=> #report.nested(#field, #value);),
            // As the validator crate: the function takes `&T` of an `Option<T>`, and is not
            // called when the value is absent.
            Kind::Custom(f) if is_option(ty) => quote_spanned! {span=>
                if let ::core::option::Option::Some(__doudou_some) = #value {
                    #report.custom(#field, #f(__doudou_some), #message);
                }
            },
            Kind::Custom(f) => quote_spanned!(span=> #report.custom(#field, #f(#value), #message);),
        }
    });
    quote!(#(#each)*)
}

/// The `Rule`s stating `rules` in a parameter's schema, as an array expression.
pub(crate) fn doc_rules(krate: &Path, rules: &[Rule]) -> TokenStream {
    let rule = quote!(#krate::__private::Rule);
    let each = rules.iter().filter_map(|r| {
        Some(match &r.kind {
            Kind::Length { min, max, equal } => {
                let (min, max) = match equal {
                    Some(_) => (as_u64(equal.as_ref()), as_u64(equal.as_ref())),
                    None => (as_u64(min.as_ref()), as_u64(max.as_ref())),
                };
                quote!(#rule::Length { min: #min, max: #max })
            }
            Kind::Range { min, max } => {
                let (min, max) = (as_f64(min.as_ref()), as_f64(max.as_ref()));
                quote!(#rule::Range { min: #min, max: #max })
            }
            Kind::Email => quote!(#rule::Email),
            Kind::Url => quote!(#rule::Url),
            Kind::Pattern(p) => quote!(#rule::Pattern(#p)),
            Kind::RegexPath(p) => quote!(#rule::Pattern((*#p).as_str())),
            Kind::Contains(p) => quote!(#rule::Contains(#p)),
            Kind::Required => quote!(#rule::Required),
            Kind::Nested | Kind::Custom(_) => return None,
        })
    });
    quote!([#(#each),*])
}

/// Refuses the rules a method parameter cannot take.
pub(crate) fn check_param_rules(rules: &[Rule]) -> syn::Result<()> {
    match rules.iter().find(|r| matches!(r.kind, Kind::Nested)) {
        Some(r) => Err(syn::Error::new(
            r.span,
            "`nested` is for model fields: a body's model is checked with its own rules already",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(attr: Attribute) -> syn::Result<Vec<Rule>> {
        parse(&[attr])
    }

    #[test]
    fn a_custom_rule_on_an_option_checks_what_is_inside() {
        let rules = rules_of(syn::parse_quote!(#[validate(custom(function = "check"))])).expect("parses");
        let krate: Path = syn::parse_quote!(::doudou);
        let ty: syn::Type = syn::parse_quote!(Option<String>);
        let code = checks(&krate, &rules, "nick", (&quote!(&self.nick), &ty), &quote!(r)).to_string();
        assert!(
            code.contains("if let :: core :: option :: Option :: Some (__doudou_some) = & self . nick"),
            "{code}"
        );
        assert!(code.contains("check (__doudou_some)"), "{code}");
    }

    #[test]
    fn the_validator_spelling_is_read() {
        let rules = rules_of(syn::parse_quote!(#[validate(length(min = 1, max = 64), email, range(min = -5, max = "MAX"), regex(pattern = r"^\d+$", message = "digits"), custom(function = "check"), nested)]))
            .expect("parses");
        assert_eq!(rules.len(), 6);
        let krate: Path = syn::parse_quote!(::doudou);
        let ty: syn::Type = syn::parse_quote!(String);
        let code = checks(&krate, &rules, "name", (&quote!(&self.name), &ty), &quote!(r)).to_string();
        for part in [
            "r . length",
            "r . email",
            "(MAX) as f64",
            "Pattern :: new",
            "\"digits\"",
            "check (& self . name)",
            "r . nested",
        ] {
            assert!(code.contains(part), "{part}: {code}");
        }
        let doc = doc_rules(&krate, &rules).to_string();
        assert!(doc.contains("Rule :: Length") && !doc.contains("nested"), "{doc}");
    }

    #[test]
    fn unknown_rules_and_bad_patterns_are_refused_with_what_to_write() {
        let err = |attr: Attribute| rules_of(attr).err().expect("refused").to_string();
        assert!(err(syn::parse_quote!(#[validate(phone)])).contains("the rules are length, range"));
        assert!(err(syn::parse_quote!(#[validate(regex(pattern = "(unclosed"))])).contains("invalid pattern"));
        assert!(err(syn::parse_quote!(#[validate(range(exclusive_min = 1))])).contains("exclusive bounds"));
        assert!(err(syn::parse_quote!(#[validate(length(message = "short"))])).contains("needs `min`"));
    }
}
