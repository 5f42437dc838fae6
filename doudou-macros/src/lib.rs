//! Procedural macros of doudou. Use them through the `doudou` crate: `#[doudou::service]` on a
//! trait, `#[doudou::model]` on the types it exchanges.
//!
//! Each entry point is a thin wrapper around an `expand` function on `proc_macro2` types, so
//! the expansions are unit-tested without a compiler in the loop.

mod model;
mod service;

use proc_macro::TokenStream;

/// Turns a trait into an HTTP service: routes, parameter binding, a typed `{Trait}Client`, a
/// `{Trait}Server` to serve an implementation, and `{trait}_openapi()`.
///
/// See the `doudou` crate's README for the route convention and the parameter kinds.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    service::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives what a type needs to cross a doudou service (serde's `Serialize` and
/// `Deserialize`, schemars' `JsonSchema`) without the user depending on those crates.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    model::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
