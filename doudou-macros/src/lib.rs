//! Procedural macros of doudou. Use them through the `doudou` crate: `#[doudou::service]` on a
//! trait, `#[doudou::model]` on the types it exchanges.
//!
//! Each entry point is a thin wrapper around an `expand` function on `proc_macro2` types, so
//! the expansions are unit-tested without a compiler in the loop.

mod args;
mod error;
mod main_fn;
mod model;
mod rules;
mod service;
mod test_fn;

use proc_macro::TokenStream;

/// Turns a trait into an HTTP service: routes, parameter binding, a typed `{Trait}Client`, a
/// `{Trait}Server` to serve an implementation, and `{trait}_openapi()`.
///
/// See the book's "Defining a service" chapter (docs/src/services.md) for the route convention and the parameter kinds.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    service::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Runs an `async fn main` on a multi-threaded tokio runtime, the one doudou itself uses: a
/// binary that calls services (or awaits `Server::run`) needs no tokio dependency.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    main_fn::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// A test on tokio's runtime, through the tokio doudou re-exports: `#[doudou::test]` on an
/// `async fn`, with tokio's arguments (`flavor = "multi_thread"`, `start_paused = true`: that one
/// needs tokio's `test-util` feature in the test's crate).
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test_fn::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives what a type needs to cross a doudou service (serde's `Serialize` and
/// `Deserialize`, schemars' `JsonSchema`) without the user depending on those crates, and
/// checks the `#[validate(...)]` rules of its fields when it is bound from a request.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    model::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an enum the error type of service methods: each variant is answered with the status
/// and business code of its `#[error(status = 409, code = 40901)]`, its `Display` as the
/// message and its fields as the body's `data`, and the generated client reads it back.
#[proc_macro_attribute]
pub fn error(attr: TokenStream, item: TokenStream) -> TokenStream {
    error::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

#[cfg(test)]
mod snapshots {
    //! Expansion snapshots: `tests/expand/NAME.rs` expands to `tests/expand/NAME.expanded.rs`.
    //! Set `DOUDOU_BLESS=1` to rewrite the snapshots after an intended change.

    use std::path::Path;

    fn expand_file(path: &Path) -> String {
        let source = std::fs::read_to_string(path).expect("read input");
        let file: syn::File = syn::parse_str(&source).expect("input parses");
        let mut out = proc_macro2::TokenStream::new();
        for mut item in file.items {
            let attrs = match &mut item {
                syn::Item::Trait(t) => &mut t.attrs,
                syn::Item::Struct(s) => &mut s.attrs,
                syn::Item::Enum(e) => &mut e.attrs,
                _ => panic!("unsupported item in {}", path.display()),
            };
            let pos =
                attrs.iter().position(|a| a.path().segments.first().is_some_and(|s| s.ident == "doudou"));
            let attr = attrs.remove(pos.expect("a #[doudou::...] attribute"));
            let name = attr.path().segments.last().expect("segment").ident.to_string();
            let args = match attr.meta {
                syn::Meta::List(l) => l.tokens,
                _ => proc_macro2::TokenStream::new(),
            };
            let tokens = quote::quote!(#item);
            let expanded = match name.as_str() {
                "service" => crate::service::expand(args, tokens),
                "model" => crate::model::expand(args, tokens),
                "error" => crate::error::expand(args, tokens),
                other => panic!("unknown macro {other}"),
            };
            out.extend(expanded.expect("expands"));
        }
        prettyplease::unparse(&syn::parse2(out).expect("the expansion parses as a file"))
    }

    /// This crate's directory, read when the test runs: a test binary reused from another checkout
    /// through a shared target directory must still read this checkout's files.
    fn manifest_dir() -> std::path::PathBuf {
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
    }

    #[test]
    fn expansions_match_snapshots() {
        let dir = manifest_dir().join("tests/expand");
        let bless = std::env::var_os("DOUDOU_BLESS").is_some();
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("tests/expand") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if !name.ends_with(".rs") || name.ends_with(".expanded.rs") {
                continue;
            }
            let actual = expand_file(&path);
            let snapshot = path.with_extension("expanded.rs");
            if bless {
                std::fs::write(&snapshot, &actual).expect("write snapshot");
            }
            let expected = std::fs::read_to_string(&snapshot)
                .unwrap_or_else(|_| panic!("{} is missing: run with DOUDOU_BLESS=1", snapshot.display()));
            assert!(actual == expected, "{name} expands differently from its snapshot; diff it, then DOUDOU_BLESS=1 if intended:\n{actual}");
            checked += 1;
        }
        assert!(checked >= 2, "the snapshots were not found");
    }

    #[test]
    fn errors_keep_the_trait_and_report_every_problem() {
        let out = crate::service::expand(
            quote::quote!(),
            quote::quote! {
                pub trait Users {
                    fn a(&self) -> Result<u64, doudou::Error>;
                    async fn b(self) -> Result<u64, doudou::Error>;
                    #[get("/x/{id}")]
                    async fn c(&self, one: &str, two: impl Into<String>) -> Result<u64, doudou::Error>;
                    async fn __doudou_d(&self) -> Result<u64, doudou::Error>;
                }
            },
        )
        .expect("errors are tokens, not Err")
        .to_string();
        assert!(out.contains("pub trait Users"), "the trait is re-emitted: {out}");
        assert!(!out.contains("# [get"), "route attributes are stripped: {out}");
        assert_eq!(out.matches("compile_error").count(), 6, "{out}");
        for message in [
            "use `String` instead of `&str`",
            "cannot be `impl Trait`",
            "`{id}` has no method parameter",
            "kept for the generated code",
        ] {
            assert!(out.contains(message), "{message}: {out}");
        }
        assert!(!out.contains("UsersClient"), "nothing is generated from a broken trait");
    }
}
