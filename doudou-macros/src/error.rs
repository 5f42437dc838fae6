//! `#[doudou::error]`: an enum of business errors -> `doudou::ServiceError` (answered with each
//! variant's status, code, `Display` and fields; read back by the client; described in the
//! document) and `From<doudou::Error>` into its `#[error(other)]` variant.
//!
//! Only this macro's own `#[error(status = .., code = ..)]` and `#[error(other)]` attributes are
//! taken off the variants; thiserror's `#[error("...")]` stays for thiserror.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::{Fields, Ident, ItemEnum, LitInt, Variant};

use crate::args::crate_path;
use crate::service::doc_string;

/// What a variant is answered with.
enum Answer {
    /// `#[error(status = 404, code = 40401)]`.
    Status { status: u16, code: i64 },
    /// `#[error(other)]`: holds a `doudou::Error`.
    Other,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let krate = crate_path.parse2(attr)?;
    let mut item: ItemEnum = match syn::parse2::<syn::Item>(item)? {
        syn::Item::Enum(e) => e,
        other => {
            return Err(syn::Error::new_spanned(
                item_keyword(&other),
                "#[doudou::error] applies to an enum of the errors a method answers with, e.g. `enum UserError { #[error(status = 404, code = 40401)] NotFound, #[error(other)] Other(doudou::Error) }`",
            ))
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut fail = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    if !item.generics.params.is_empty() {
        fail(syn::Error::new_spanned(&item.generics, "a #[doudou::error] enum cannot be generic"));
    }
    let mut answers = Vec::new();
    for variant in &mut item.variants {
        match answer(variant) {
            Ok(a) => answers.push(Some(a)),
            Err(e) => {
                fail(e);
                answers.push(None);
            }
        }
    }
    let variants: Vec<&Variant> = item.variants.iter().collect();
    let mut others = Vec::new();
    for (i, (variant, answer)) in variants.iter().zip(&answers).enumerate() {
        match answer {
            None => {}
            Some(Answer::Other) => {
                let one_field = matches!(&variant.fields, Fields::Unnamed(f) if f.unnamed.len() == 1);
                if !one_field {
                    fail(syn::Error::new_spanned(
                        &variant.ident,
                        "the `#[error(other)]` variant holds the error itself: `Other(doudou::Error)`",
                    ));
                }
                others.push(&variant.ident);
            }
            Some(Answer::Status { code, .. }) => {
                if let Fields::Unnamed(f) = &variant.fields {
                    fail(syn::Error::new_spanned(
                        f,
                        format!(
                            "name the fields of `{}`: they are the keys of the answer's `data`",
                            variant.ident
                        ),
                    ));
                }
                let earlier = variants[..i]
                    .iter()
                    .zip(&answers)
                    .find(|(_, a)| matches!(a, Some(Answer::Status { code: c, .. }) if c == code));
                if let Some((first, _)) = earlier {
                    fail(syn::Error::new_spanned(
                        &variant.ident,
                        format!(
                            "code {code} is also `{}`'s: each variant needs a code of its own",
                            first.ident
                        ),
                    ));
                }
            }
        }
    }
    match others.as_slice() {
        [_] => {}
        [] => fail(syn::Error::new_spanned(
            &item.ident,
            format!(
                "add a variant `#[error(other)] Other(doudou::Error)` to `{}`: the generated client answers transport failures, framework errors (400, 429, 503) and codes it does not know with it",
                item.ident
            ),
        )),
        [_, second, ..] => fail(syn::Error::new_spanned(second, "only one variant can be `#[error(other)]`")),
    }
    if let Some(e) = errors {
        let e = e.into_compile_error();
        return Ok(quote!(#item #e));
    }
    let answers: Vec<Answer> = answers.into_iter().flatten().collect();
    Ok(generate(&krate, &item, &answers))
}

/// Where to report a misplaced attribute: the item's keyword and name.
fn item_keyword(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(s) => {
            let (keyword, ident) = (&s.struct_token, &s.ident);
            quote!(#keyword #ident)
        }
        syn::Item::Union(u) => {
            let (keyword, ident) = (&u.union_token, &u.ident);
            quote!(#keyword #ident)
        }
        syn::Item::Fn(f) => {
            let (keyword, ident) = (&f.sig.fn_token, &f.sig.ident);
            quote!(#keyword #ident)
        }
        other => quote!(#other),
    }
}

/// Takes the variant's `#[error(status, code)]` or `#[error(other)]` off it.
fn answer(variant: &mut Variant) -> syn::Result<Answer> {
    let mut found = None;
    let mut result = Ok(());
    variant.attrs.retain(|attr| {
        if !attr.path().is_ident("error") || !is_ours(attr) {
            return true;
        }
        let (mut status, mut code, mut other) = (None::<LitInt>, None::<LitInt>, false);
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("status") {
                status = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("code") {
                code = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("other") {
                other = true;
            } else {
                return Err(meta.error("expected `status = 404`, `code = 40401` or `other`"));
            }
            Ok(())
        });
        let answer = parsed.and_then(|()| match (status, other) {
            (None, true) if code.is_none() => Ok(Answer::Other),
            (Some(lit), false) => {
                let status: u16 = lit.base10_parse()?;
                if !(400..=599).contains(&status) {
                    return Err(syn::Error::new_spanned(lit, "an error's status is 4xx or 5xx"));
                }
                let code = match code {
                    Some(c) => c.base10_parse()?,
                    None => i64::from(status),
                };
                Ok(Answer::Status { status, code })
            }
            _ => Err(syn::Error::new_spanned(
                attr,
                "write `#[error(status = 404, code = 40401)]` or `#[error(other)]`",
            )),
        });
        match answer {
            Ok(a) if found.is_none() => found = Some(a),
            Ok(_) => result = Err(syn::Error::new_spanned(attr, "one `#[error(status, code)]` per variant")),
            Err(e) => result = Err(e),
        }
        false
    });
    result?;
    found.ok_or_else(|| {
        syn::Error::new_spanned(
            &variant.ident,
            format!(
                "`{}` needs `#[error(status = 404, code = 40401)]`: the HTTP status (4xx or 5xx) and the business code it is answered with",
                variant.ident
            ),
        )
    })
}

/// `#[error(status ..)]`, `#[error(code ..)]` or `#[error(other)]`, not thiserror's.
fn is_ours(attr: &syn::Attribute) -> bool {
    let syn::Meta::List(list) = &attr.meta else { return false };
    let first = list.tokens.clone().into_iter().next();
    matches!(first, Some(proc_macro2::TokenTree::Ident(i)) if i == "status" || i == "code" || i == "other")
}

fn generate(krate: &syn::Path, item: &ItemEnum, answers: &[Answer]) -> TokenStream {
    let ident = &item.ident;
    let mut into = Vec::new();
    let mut from = Vec::new();
    let mut describe = Vec::new();
    let mut other: Option<&Ident> = None;
    for (variant, answer) in item.variants.iter().zip(answers) {
        let v = &variant.ident;
        let Answer::Status { status, code } = answer else {
            other = Some(v);
            into.push(quote!(Self::#v(__doudou_error) => __doudou_error,));
            continue;
        };
        let names: Vec<&Ident> = variant.fields.iter().filter_map(|f| f.ident.as_ref()).collect();
        let keys: Vec<String> =
            names.iter().map(|n| n.to_string().trim_start_matches("r#").to_owned()).collect();
        let types = variant.fields.iter().map(|f| &f.ty);
        let variant_name = v.to_string();
        let doc = doc_string(&variant.attrs);
        into.push(quote! {
            Self::#v { #(#names),* } => #krate::__private::DataWriter::new()
                #(.field(#keys, &#names))*
                .finish(#status, #code, __doudou_message),
        });
        from.push(if names.is_empty() {
            quote!((#status, #code) => ::core::option::Option::Some(Self::#v {}),)
        } else {
            quote! {
                (#status, #code) => (|| ::core::option::Option::Some(Self::#v { #(#names: __doudou_reader.field(#keys)?),* }))(),
            }
        });
        describe.push(quote! {
            let __doudou_fields = ::std::vec![#((#keys, __doudou_op.schema::<#types>())),*];
            __doudou_op.business_error(#status, #code, #variant_name, #doc, __doudou_fields);
        });
    }
    let other = other.expect("checked: one `other` variant");
    quote! {
        #item

        impl #krate::ServiceError for #ident {
            fn into_error(self) -> #krate::Error {
                let __doudou_message = ::std::string::ToString::to_string(&self);
                match self {
                    #(#into)*
                }
            }

            fn from_error(__doudou_error: #krate::Error) -> Self {
                let __doudou_reader = #krate::__private::DataReader::new(&__doudou_error);
                let __doudou_known: ::core::option::Option<Self> = match (__doudou_error.status().as_u16(), __doudou_error.code()) {
                    #(#from)*
                    _ => ::core::option::Option::None,
                };
                match __doudou_known {
                    ::core::option::Option::Some(__doudou_variant) => __doudou_variant,
                    ::core::option::Option::None => Self::#other(__doudou_error),
                }
            }

            fn describe(__doudou_op: &mut #krate::__private::Operation<'_>) {
                #(#describe)*
            }
        }

        impl ::core::convert::From<#krate::Error> for #ident {
            fn from(__doudou_error: #krate::Error) -> Self {
                Self::#other(__doudou_error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(item: TokenStream) -> String {
        expand(quote!(), item).map_or_else(|e| e.to_string(), |t| t.to_string())
    }

    #[test]
    fn variants_become_statuses_and_codes_and_thiserror_keeps_its_attributes() {
        let out = expand_str(quote! {
            #[derive(Debug, thiserror::Error)]
            pub enum UserError {
                #[error("no such user")]
                #[error(status = 404, code = 40401)]
                NotFound,
                #[error(status = 409, code = 40901)]
                #[error("taken by {existing_id}")]
                Conflict { existing_id: u64 },
                #[error(other)]
                #[error(transparent)]
                Other(doudou::Error),
            }
        });
        assert!(out.contains("finish (404u16 , 40401i64"), "{out}");
        assert!(out.contains(". field (\"existing_id\" , & existing_id)"), "{out}");
        assert!(out.contains("(409u16 , 40901i64) =>"), "{out}");
        assert_eq!(out.matches("# [error (\"").count(), 2, "thiserror's attributes stay: {out}");
        assert!(out.contains("# [error (transparent)]"), "{out}");
        assert!(!out.contains("status ="), "ours are taken off: {out}");
    }

    #[test]
    fn misuse_is_reported_on_the_variant_with_what_to_write() {
        let out = expand_str(quote! {
            pub enum E {
                Missing,
                #[error(status = 200)]
                Ok,
                #[error(status = 404, code = 1)]
                A(u64),
                #[error(status = 409, code = 1)]
                B,
            }
        });
        for message in [
            "`Missing` needs `#[error(status = 404, code = 40401)]`",
            "an error's status is 4xx or 5xx",
            "name the fields of `A`",
            "code 1 is also `A`'s",
            "add a variant `#[error(other)] Other(doudou::Error)`",
        ] {
            assert!(out.contains(message), "{message}: {out}");
        }
        assert!(out.contains("pub enum E"), "the enum is kept: {out}");
    }

    #[test]
    fn only_enums() {
        let out = expand_str(quote!(
            pub struct E;
        ));
        assert!(out.contains("applies to an enum"), "{out}");
    }
}
