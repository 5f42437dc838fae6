//! `#[doudou::main]`: an `async fn main` run on a multi-threaded tokio runtime that doudou
//! provides, so that a binary needs no tokio dependency of its own.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;

use crate::args::crate_path;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let krate = crate_path.parse2(attr)?;
    let mut f: syn::ItemFn = syn::parse2(item)?;
    if f.sig.asyncness.take().is_none() {
        return Err(syn::Error::new_spanned(f.sig.fn_token, "#[doudou::main] goes on an `async fn main`"));
    }
    if !f.sig.inputs.is_empty() || !f.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&f.sig, "`main` takes no parameters"));
    }
    let body = &f.block;
    f.block = syn::parse_quote!({ #krate::__private::block_on(async move #body) });
    Ok(quote!(#f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_body_on_doudous_runtime() {
        let out = expand(
            quote!(),
            quote!(
                async fn main() {
                    work().await
                }
            ),
        )
        .expect("expands")
        .to_string();
        assert!(out.starts_with("fn main ()"), "{out}");
        assert!(out.contains(":: doudou :: __private :: block_on (async move"), "{out}");
        let err = expand(
            quote!(),
            quote!(
                fn main() {}
            ),
        )
        .expect_err("not async");
        assert!(err.to_string().contains("async fn main"));
    }
}
