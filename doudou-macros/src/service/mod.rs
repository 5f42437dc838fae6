//! `#[doudou::service]` in three stages: [`analyze`] parses the trait into a validated
//! [`ServiceDef`] (collecting every problem as a `syn::Error` spanned on the user's token),
//! then [`generate`] writes the route table, the server, the client and the document from it.
//!
//! Nothing here decides how a parameter is bound: the generated code asks the runtime's
//! `Kind<T>` for each parameter type, so the compiler picks the binding from the traits the
//! type implements. When analysis finds problems, the user's trait is emitted unchanged (minus
//! route attributes) next to the errors, so one mistake does not bury the others.

mod analyze;
mod generate;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::{Attribute, ItemTrait, Type};

/// An HTTP verb of a route.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl Verb {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "get" => Self::Get,
            "post" => Self::Post,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "head" => Self::Head,
            _ => return None,
        })
    }

    /// The name of the `Route` constructor.
    fn constructor(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Head => "head",
        }
    }

    /// The name of the `http::Method` constant.
    fn method_const(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        }
    }

    /// Whether requests of this verb carry a body (so a model parameter can be one).
    fn has_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }
}

/// A validated service trait.
struct ServiceDef {
    /// The trait, route attributes removed.
    item: ItemTrait,
    /// `::doudou` or the path given with `crate = "..."`.
    krate: syn::Path,
    methods: Vec<Method>,
}

/// A validated method.
struct Method {
    ident: Ident,
    /// The user's attributes, route attributes removed.
    attrs: Vec<Attribute>,
    doc: String,
    verb: Verb,
    /// The route template, `{name}` and `{*rest}` included.
    path: String,
    params: Vec<Param>,
    /// The declared return type (`Result<T, doudou::Error>`).
    ret: Type,
}

/// A validated parameter.
struct Param {
    ident: Ident,
    /// Its name on the wire (query, form, path, document): `#[doudou(name = "...")]`, else the
    /// identifier without `r#`.
    name: String,
    /// Its other attributes (`#[allow(...)]`, ...), carried to the generated signatures.
    attrs: Vec<Attribute>,
    ty: Type,
    /// Named in the route template.
    in_path: bool,
    /// Where it is read from when it is not in the path.
    place: Place,
    /// Its `#[validate(...)]` rules.
    rules: Vec<crate::rules::Rule>,
}

/// Where a parameter is read from: decided by its type (query, form, body, the request
/// itself), or a header or a cookie by `#[doudou(header)]` / `#[doudou(cookie)]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    ByType,
    Header,
    Cookie,
}

/// Collected errors, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    match analyze::analyze(attr, item)? {
        Ok(service) => Ok(generate::generate(&service)),
        Err((item, errors)) => {
            let errors = errors.into_compile_error();
            Ok(quote!(#item #errors))
        }
    }
}

/// The doc comment of an item, one paragraph per blank line, trimmed.
pub(crate) fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).to_owned())
        .collect();
    lines.join("\n").trim().to_owned()
}
