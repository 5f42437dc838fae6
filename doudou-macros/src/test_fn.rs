//! `#[doudou::test]`: tokio's test attribute through the tokio doudou re-exports, so that a
//! service's tests need no tokio dependency (and no `crate = "..."` argument) of their own.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let f: syn::ItemFn = syn::parse2(item)?;
    if f.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(f.sig.fn_token, "#[doudou::test] goes on an `async fn`"));
    }
    let args = if attr.is_empty() { quote!() } else { quote!(, #attr) };
    Ok(quote! {
        #[::doudou::tokio::test(crate = "::doudou::tokio" #args)]
        #f
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_the_test_to_the_reexported_tokio_with_its_arguments() {
        let item = quote!(
            async fn pauses() {}
        );
        let out = expand(quote!(start_paused = true), item.clone()).expect("expands").to_string();
        assert!(
            out.starts_with(
                "# [:: doudou :: tokio :: test (crate = \"::doudou::tokio\" , start_paused = true)]"
            ),
            "{out}"
        );
        let out = expand(quote!(), item).expect("expands").to_string();
        assert!(out.starts_with("# [:: doudou :: tokio :: test (crate = \"::doudou::tokio\")]"), "{out}");
        let err = expand(
            quote!(),
            quote!(
                fn sync() {}
            ),
        )
        .expect_err("not async");
        assert!(err.to_string().contains("async fn"), "{err}");
    }
}
