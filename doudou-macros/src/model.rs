//! `#[doudou::model]`: serde and schemars derives routed through `doudou::__private`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;

use crate::service::crate_path;

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
        }
    })
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
