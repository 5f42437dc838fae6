//! `#[doudou::model]`: serde and schemars derives routed through `doudou::__private`, and the
//! checks of the fields' `#[validate(...)]` rules.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;

use crate::args::{crate_path, rename};
use crate::rules;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let krate = crate_path.parse2(attr)?;
    let item: syn::Item = syn::parse2(item)?;
    let (ident, generics) = match &item {
        syn::Item::Struct(s) => (&s.ident, &s.generics),
        syn::Item::Enum(e) => (&e.ident, &e.generics),
        other => {
            return Err(syn::Error::new_spanned(other, "#[doudou::model] applies to a struct or an enum"))
        }
    };
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let predicates = where_clause.map(|w| &w.predicates).into_iter();
    let serde = format!("{}::__private::serde", path_string(&krate));
    let schemars = format!("{}::__private::schemars", path_string(&krate));
    // Broken rules are reported beside a model that still compiles, so that its uses do not
    // add errors of their own.
    let validate = validate_fn(&krate, &item).unwrap_or_else(syn::Error::into_compile_error);
    Ok(quote! {
        #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize, #krate::__private::schemars::JsonSchema)]
        #[serde(crate = #serde)]
        #[schemars(crate = #schemars)]
        #item

        impl #impl_generics #krate::Model for #ident #ty_generics
        where
            #(#predicates,)*
            Self: #krate::__private::serde::Serialize
                + #krate::__private::serde::de::DeserializeOwned
                + #krate::__private::schemars::JsonSchema
                + ::core::marker::Send
                + 'static,
        {
            #validate
        }
    })
}

/// `fn validate` checking the rules of the fields, or nothing when no field has one.
fn validate_fn(krate: &syn::Path, item: &syn::Item) -> syn::Result<TokenStream> {
    let misplaced = |attrs: &[syn::Attribute], what: &str| {
        attrs.iter().find(|a| rules::is_validate(a)).map_or(Ok(()), |a| {
            Err(syn::Error::new_spanned(
                a,
                format!("`#[validate]` rules go on the named fields of a struct, not on {what}"),
            ))
        })
    };
    let fields = match item {
        syn::Item::Struct(s) => {
            misplaced(&s.attrs, "the struct")?;
            match &s.fields {
                syn::Fields::Named(named) => named,
                other => {
                    for field in other {
                        misplaced(&field.attrs, "the fields of a tuple struct")?;
                    }
                    return Ok(TokenStream::new());
                }
            }
        }
        syn::Item::Enum(e) => {
            misplaced(&e.attrs, "an enum")?;
            for field in e.variants.iter().flat_map(|v| &v.fields) {
                misplaced(&field.attrs, "the fields of an enum")?;
            }
            return Ok(TokenStream::new());
        }
        _ => return Ok(TokenStream::new()),
    };
    let container = serde_names(&item_attrs(item));
    let report = quote!(__doudou_report);
    let mut checks = TokenStream::new();
    let mut errors: Option<syn::Error> = None;
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let name = || {
            let own = serde_names(&field.attrs);
            own.rename.unwrap_or_else(|| {
                let plain = ident.to_string();
                let plain = plain.strip_prefix("r#").unwrap_or(&plain);
                container.rename_all.as_deref().map_or_else(|| plain.to_owned(), |rule| rename(plain, rule))
            })
        };
        // JSON's numbers beyond f32's range deserialize to infinity, which answers as `null`
        // and no client reads back: refused like any broken rule. (f64 needs nothing: serde_json
        // refuses numbers beyond its range.)
        if holds_f32(&field.ty) {
            let name = name();
            checks.extend(quote!(#report.finite(#name, &self.#ident);));
        }
        match rules::parse(&field.attrs) {
            Ok(rules) if rules.is_empty() => {}
            Ok(rules) => {
                checks.extend(rules::checks(
                    krate,
                    &rules,
                    &name(),
                    (&quote!(&self.#ident), &field.ty),
                    &report,
                ));
            }
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    if checks.is_empty() {
        return Ok(TokenStream::new());
    }
    Ok(quote! {
        const VALIDATES: bool = true;

        fn validate(&self, #report: &mut #krate::__private::Report) {
            #checks
        }
    })
}

/// Whether `ty` is `f32`, or an `Option` or `Vec` of one (as written: an alias is not seen).
fn holds_f32(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else { return false };
    if last.ident == "f32" && path.path.segments.len() == 1 {
        return true;
    }
    if last.ident != "Option" && last.ident != "Vec" {
        return false;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|arg| match arg {
            syn::GenericArgument::Type(inner) => holds_f32(inner),
            _ => false,
        }),
        _ => false,
    }
}

fn item_attrs(item: &syn::Item) -> Vec<syn::Attribute> {
    match item {
        syn::Item::Struct(s) => s.attrs.clone(),
        syn::Item::Enum(e) => e.attrs.clone(),
        _ => Vec::new(),
    }
}

/// What serde calls a field on the wire, from `rename` and `rename_all` (the deserializing
/// name, since requests are what is validated).
#[derive(Default)]
struct SerdeNames {
    rename: Option<String>,
    rename_all: Option<String>,
}

fn serde_names(attrs: &[syn::Attribute]) -> SerdeNames {
    let mut names = SerdeNames::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // Errors are serde's to report; an attribute that does not parse changes no name.
        let _ = attr.parse_nested_meta(|meta| {
            let key = if meta.path.is_ident("rename") {
                Some(&mut names.rename)
            } else if meta.path.is_ident("rename_all") {
                Some(&mut names.rename_all)
            } else {
                None
            };
            if meta.input.peek(syn::Token![=]) {
                let value: syn::Expr = meta.value()?.parse()?;
                if let (Some(slot), syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) =
                    (key, &value)
                {
                    *slot = Some(s.value());
                }
            } else if meta.input.peek(syn::token::Paren) {
                let mut deserialize = None;
                meta.parse_nested_meta(|inner| {
                    let value: syn::Expr = inner.value()?.parse()?;
                    if let (true, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) =
                        (inner.path.is_ident("deserialize"), &value)
                    {
                        deserialize = Some(s.value());
                    }
                    Ok(())
                })?;
                if let (Some(slot), Some(d)) = (key, deserialize) {
                    *slot = Some(d);
                }
            }
            Ok(())
        });
    }
    names
}

fn path_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let lead = if path.leading_colon.is_some() { "::" } else { "" };
    format!("{lead}{}", segments.join("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_through_the_private_module() {
        let out = expand(
            quote!(),
            quote!(
                pub struct User {
                    id: u64,
                }
            ),
        )
        .expect("expands")
        .to_string();
        assert!(out.contains("serde (crate = \"::doudou::__private::serde\")"), "{out}");
        assert!(out.contains("schemars (crate = \"::doudou::__private::schemars\")"), "{out}");
    }

    #[test]
    fn fields_with_rules_are_checked_under_their_wire_names() {
        let out = expand(
            quote!(),
            quote!(
                #[serde(rename_all = "camelCase")]
                pub struct SignUp {
                    #[validate(length(min = 1, max = 64))]
                    user_name: String,
                    #[serde(rename = "mail")]
                    #[validate(email)]
                    email: String,
                    plain: u8,
                }
            ),
        )
        .expect("expands")
        .to_string();
        assert!(out.contains("fn validate"), "{out}");
        assert!(out.contains("length (\"userName\""), "{out}");
        assert!(out.contains("email (\"mail\""), "{out}");
        assert!(!out.contains("\"plain\""), "{out}");
    }

    #[test]
    fn f32_fields_are_checked_to_be_finite_without_a_rule() {
        let item = quote!(
            pub struct Parcel {
                weight_kg: f32,
                legs: Vec<f32>,
                volume: Option<f32>,
                count: u32,
            }
        );
        let out = expand(quote!(), item).expect("expands").to_string();
        assert_eq!(out.matches(". finite (").count(), 3, "{out}");
        assert!(out.contains("const VALIDATES : bool = true"), "{out}");
    }

    #[test]
    fn a_model_without_rules_checks_nothing() {
        let out = expand(
            quote!(),
            quote!(
                pub struct P {
                    id: u64,
                }
            ),
        )
        .expect("expands")
        .to_string();
        assert!(!out.contains("fn validate"), "{out}");
    }

    #[test]
    fn rules_outside_named_fields_are_refused() {
        let out = expand(
            quote!(),
            quote!(
                pub enum E {
                    A(#[validate(email)] String),
                }
            ),
        )
        .expect("tokens")
        .to_string();
        assert!(out.contains("compile_error") && out.contains("named fields of a struct"), "{out}");
        assert!(out.contains("pub enum E"), "the type is kept: {out}");
    }

    #[test]
    fn rejects_functions() {
        let err = expand(
            quote!(),
            quote!(
                fn f() {}
            ),
        )
        .expect_err("not a type");
        assert!(err.to_string().contains("struct or an enum"));
    }
}
