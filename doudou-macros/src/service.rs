//! `#[doudou::service]`: analysis of the trait, then code generation.
//!
//! Analysis collects every problem as a `syn::Error` spanned on the user's token; when there
//! is any, the user's trait is emitted unchanged (minus route attributes) next to the errors,
//! so one mistake does not bury the others under "cannot find trait" noise.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType, TraitItem,
    TraitItemFn, Type,
};

/// Method names the generated client and server use for themselves.
const RESERVED: &[&str] = &["new", "discover", "with_client", "from_arc", "describe"];

const SCALARS: &[&str] = &[
    "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    "f32", "f64", "String",
];

/// `crate = "path"` (or nothing: `::doudou`).
pub(crate) fn crate_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
    if input.is_empty() {
        return Ok(syn::parse_quote!(::doudou));
    }
    input.parse::<syn::Token![crate]>()?;
    input.parse::<syn::Token![=]>()?;
    let lit: LitStr = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("expected only `crate = \"path\"`"));
    }
    lit.parse()
}

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

    fn variant(self) -> Ident {
        let name = match self {
            Self::Get => "Get",
            Self::Post => "Post",
            Self::Put => "Put",
            Self::Patch => "Patch",
            Self::Delete => "Delete",
            Self::Head => "Head",
        };
        Ident::new(name, Span::call_site())
    }

    fn method_const(self) -> Ident {
        let name = match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        };
        Ident::new(name, Span::call_site())
    }
}

enum Kind {
    Path,
    Query { schema_ty: Type, required: bool },
    Body { schema_ty: Type, optional: bool },
    Headers,
    RemoteAddr,
    File { optional: bool, multiple: bool },
}

struct Param {
    ident: Ident,
    ty: Type,
    kind: Kind,
}

enum Output {
    Json(Box<Type>),
    Empty,
    Download,
}

struct Method {
    ident: Ident,
    attrs: Vec<Attribute>,
    doc: String,
    verb: Verb,
    path: String,
    params: Vec<Param>,
    ret: Type,
    output: Output,
}

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
    let mut errors = Errors::default();
    let krate = match crate_path.parse2(attr) {
        Ok(k) => k,
        Err(e) => {
            errors.push(e);
            syn::parse_quote!(::doudou)
        }
    };
    let item: ItemTrait = syn::parse2(item).map_err(|e| {
        syn::Error::new(e.span(), "#[doudou::service] applies to a trait: `pub trait Users { ... }`")
    })?;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(&item.generics, "a service trait cannot be generic"));
    }
    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(f) => {
                if let Some(m) = analyze(f, &mut errors) {
                    methods.push(m);
                }
            }
            other => {
                errors.push(syn::Error::new_spanned(other, "a service trait holds only `async fn` methods"))
            }
        }
    }
    check_clashes(&methods, &mut errors);
    match errors.0 {
        Some(e) => {
            let original = strip_route_attrs(item);
            let errors = e.into_compile_error();
            Ok(quote!(#original #errors))
        }
        None => Ok(generate(&krate, &item, &methods)),
    }
}

fn strip_route_attrs(mut item: ItemTrait) -> ItemTrait {
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| route_attr_verb(a).is_none());
        }
    }
    item
}

fn route_attr_verb(attr: &Attribute) -> Option<Verb> {
    let ident = attr.path().get_ident()?;
    Verb::from_word(&ident.to_string())
}

fn analyze(f: &TraitItemFn, errors: &mut Errors) -> Option<Method> {
    let sig = &f.sig;
    let mut ok = true;
    let mut fail = |e: syn::Error| {
        errors.push(e);
        ok = false;
    };
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
        match route_attr_verb(attr) {
            Some(verb) => match attr.parse_args::<LitStr>() {
                Ok(lit) if route.is_some() => {
                    fail(syn::Error::new_spanned(lit, "only one route attribute per method"));
                }
                Ok(lit) => {
                    let path = lit.value();
                    if !path.starts_with('/') {
                        fail(syn::Error::new_spanned(&lit, "a route path starts with `/`"));
                    }
                    route = Some((verb, path, Some(lit)));
                }
                Err(_) => fail(syn::Error::new_spanned(attr, "expected a path: `#[get(\"/users/{id}\")]`")),
            },
            None => attrs.push(attr.clone()),
        }
    }
    let (verb, path, path_lit) = route.unwrap_or_else(|| {
        let (verb, path) = route_from_name(&name);
        (verb, path, None)
    });
    let path_names = path_params(&path);

    let mut params = Vec::new();
    let mut body_param: Option<Ident> = None;
    let mut has_file = false;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else {
            continue;
        };
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.subpat.is_none() => p.ident.clone(),
            other => {
                fail(syn::Error::new_spanned(
                    other,
                    "parameters must be plain names: they name the query, form or path parameter",
                ));
                continue;
            }
        };
        let ty = (*pt.ty).clone();
        let pname = ident.to_string();
        let kind = if path_names.contains(&pname) { Kind::Path } else { classify(&ty) };
        match &kind {
            Kind::Body { .. } => {
                if let Some(first) = &body_param {
                    fail(syn::Error::new_spanned(
                        &pt.ty,
                        format!("only one parameter can be the JSON body, and `{first}` already is; make this a scalar, or put both in one struct"),
                    ));
                } else {
                    body_param = Some(ident.clone());
                }
            }
            Kind::File { .. } => has_file = true,
            _ => {}
        }
        params.push(Param { ident, ty, kind });
    }
    if has_file {
        if let Some(body) = &body_param {
            fail(syn::Error::new_spanned(
                body,
                "a method with a file upload takes a multipart body and cannot also take a JSON body",
            ));
        }
    }
    for name in &path_names {
        if !params.iter().any(|p| p.ident == name) {
            let span = path_lit.as_ref().map_or_else(|| sig.ident.span(), Spanned::span);
            fail(syn::Error::new(
                span,
                format!("the path parameter `{{{name}}}` has no method parameter of that name"),
            ));
        }
    }

    let ret = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => None,
    };
    let output = ret.as_ref().and_then(result_ok_type).map(|ok| match &ok {
        Type::Tuple(t) if t.elems.is_empty() => Output::Empty,
        _ if last_ident(&ok).is_some_and(|i| i == "FileDownload") => Output::Download,
        _ => Output::Json(Box::new(ok)),
    });
    let Some(output) = output else {
        let span = ret.as_ref().map_or_else(|| sig.ident.span(), Spanned::span);
        fail(syn::Error::new(span, "service methods return `Result<T, doudou::Error>`"));
        return None;
    };
    let doc = doc_string(&f.attrs);
    ok.then(|| Method {
        ident: sig.ident.clone(),
        attrs,
        doc,
        verb,
        path,
        params,
        ret: ret.unwrap_or_else(|| syn::parse_quote!(())),
        output,
    })
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

fn last_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The single generic argument of `Wrapper<T>`, if `ty` is one.
fn generic_of<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    match args.args.first() {
        Some(GenericArgument::Type(t)) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    match (args.args.len(), args.args.first()) {
        (2, Some(GenericArgument::Type(t))) => Some(t.clone()),
        _ => None,
    }
}

fn is_scalar(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_empty() && SCALARS.contains(&s.ident.to_string().as_str())),
        _ => false,
    }
}

fn classify(ty: &Type) -> Kind {
    if last_ident(ty).is_some_and(|i| i == "HeaderMap") {
        return Kind::Headers;
    }
    if last_ident(ty).is_some_and(|i| i == "SocketAddr") {
        return Kind::RemoteAddr;
    }
    if last_ident(ty).is_some_and(|i| i == "UploadFile") {
        return Kind::File { optional: false, multiple: false };
    }
    for (wrapper, optional, multiple) in [("Option", true, false), ("Vec", false, true)] {
        if let Some(inner) = generic_of(ty, wrapper) {
            if last_ident(inner).is_some_and(|i| i == "UploadFile") {
                return Kind::File { optional, multiple };
            }
            if is_scalar(inner) {
                let schema_ty = if optional { inner.clone() } else { ty.clone() };
                return Kind::Query { schema_ty, required: false };
            }
        }
    }
    if is_scalar(ty) {
        return Kind::Query { schema_ty: ty.clone(), required: true };
    }
    match generic_of(ty, "Option") {
        Some(inner) => Kind::Body { schema_ty: inner.clone(), optional: true },
        None => Kind::Body { schema_ty: ty.clone(), optional: false },
    }
}

fn doc_string(attrs: &[Attribute]) -> String {
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

fn to_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn generate(krate: &syn::Path, item: &ItemTrait, methods: &[Method]) -> TokenStream {
    let vis = &item.vis;
    let trait_ident = &item.ident;
    let trait_name = trait_ident.to_string();
    let client = format_ident!("{}Client", trait_ident);
    let server = format_ident!("{}Server", trait_ident);
    let openapi_fn = format_ident!("{}_openapi", to_snake(&trait_name));
    let trait_attrs = &item.attrs;
    let trait_doc = doc_string(&item.attrs);
    let unsafety = &item.unsafety;
    let supertraits = &item.supertraits;
    let colon = if supertraits.is_empty() { quote!(:) } else { quote!(: #supertraits +) };

    let trait_methods = methods.iter().map(|m| {
        let ident = &m.ident;
        let attrs = &m.attrs;
        let ret = &m.ret;
        let args = m.params.iter().map(|p| {
            let (i, t) = (&p.ident, &p.ty);
            quote!(#i: #t)
        });
        quote! {
            #(#attrs)*
            fn #ident(&self, #(#args),*) -> impl ::core::future::Future<Output = #ret> + ::core::marker::Send;
        }
    });

    let routes = methods.iter().map(|m| {
        let verb = m.verb.variant();
        let path = &m.path;
        let op = m.ident.to_string();
        quote!(#krate::Route { verb: #krate::Verb::#verb, path: #path, operation: #op })
    });

    let arms = methods.iter().enumerate().map(|(index, m)| handler_arm(krate, index, m));
    let client_methods = methods.iter().map(|m| client_method(krate, m));
    let operations = methods.iter().map(|m| describe_operation(krate, &trait_name, m));

    let client_doc = format!(
        "A typed HTTP client of [`{trait_name}`]: each call is a request to an instance of the service."
    );
    let server_doc = format!("Serves an implementation of [`{trait_name}`]: pass it to `doudou::serve` or `doudou::Server::service`.");
    let openapi_doc = format!("The OpenAPI 3.0 document of [`{trait_name}`].");

    quote! {
        #(#trait_attrs)*
        #vis #unsafety trait #trait_ident #colon ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }

        #[doc = #client_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client {
            client: #krate::Client,
        }

        impl #client {
            /// A client of the instance at `base_url`, e.g. `http://127.0.0.1:6060`.
            #vis fn new(base_url: impl ::core::convert::Into<::std::string::String>) -> Self {
                Self { client: #krate::Client::new(base_url) }
            }

            /// A client of the instances of `service` (their `GDD_SERVICE_NAME`) found through
            /// gossip, load-balanced by their weights; a call that cannot connect is retried on
            /// another instance.
            #vis fn discover(service: impl ::core::convert::Into<::std::string::String>) -> Self {
                Self { client: #krate::Client::discover(service) }
            }

            /// A client over an existing `doudou::Client`, e.g. one with a load-balancing provider.
            #vis fn with_client(client: #krate::Client) -> Self {
                Self { client }
            }

            #[doc(hidden)]
            #vis fn describe(api: &mut #krate::__private::ApiBuilder) {
                api.tag(#trait_name, #trait_doc);
                #(#operations)*
            }
        }

        impl #trait_ident for #client {
            #(#client_methods)*
        }

        #[doc = #server_doc]
        #vis struct #server<T> {
            inner: ::std::sync::Arc<T>,
        }

        impl<T: #trait_ident> #server<T> {
            /// Serves `service`.
            #vis fn new(service: T) -> Self {
                Self { inner: ::std::sync::Arc::new(service) }
            }

            /// Serves a service that is shared with other parts of the program.
            #vis fn from_arc(service: ::std::sync::Arc<T>) -> Self {
                Self { inner: service }
            }
        }

        impl<T> ::core::clone::Clone for #server<T> {
            fn clone(&self) -> Self {
                Self { inner: <::std::sync::Arc<T> as ::core::clone::Clone>::clone(&self.inner) }
            }
        }

        impl<T: #trait_ident> #krate::Service for #server<T> {
            fn name(&self) -> &'static str {
                #trait_name
            }

            fn routes(&self) -> &'static [#krate::Route] {
                const ROUTES: &[#krate::Route] = &[#(#routes),*];
                ROUTES
            }

            // Handlers that bind from the body take the request mutably; the others leave it be.
            #[allow(unused_mut)]
            fn call(
                &self,
                route: usize,
                mut request: #krate::__private::Request,
            ) -> #krate::__private::BoxFuture<#krate::__private::Response<#krate::__private::Body>> {
                let service = <::std::sync::Arc<T> as ::core::clone::Clone>::clone(&self.inner);
                match route {
                    #(#arms)*
                    _ => #krate::__private::unknown_route(),
                }
            }

            fn describe(&self, api: &mut #krate::__private::ApiBuilder) {
                #client::describe(api)
            }

            fn build_info(&self) -> #krate::BuildInfo {
                #krate::BuildInfo {
                    version: ::core::env!("CARGO_PKG_VERSION"),
                    git_commit: match ::core::option_env!("GDD_GIT_COMMIT") {
                        ::core::option::Option::Some(commit) => commit,
                        ::core::option::Option::None => "",
                    },
                    build_time: match ::core::option_env!("GDD_BUILD_TIME") {
                        ::core::option::Option::Some(time) => time,
                        ::core::option::Option::None => "",
                    },
                }
            }
        }

        #[doc = #openapi_doc]
        #vis fn #openapi_fn() -> #krate::__private::serde_json::Value {
            #krate::__private::openapi_doc(#trait_name, ::core::env!("CARGO_PKG_VERSION"), #client::describe)
        }
    }
}

fn handler_arm(krate: &syn::Path, index: usize, m: &Method) -> TokenStream {
    let ident = &m.ident;
    let has_file = m.params.iter().any(|p| matches!(p.kind, Kind::File { .. }));
    let has_body = m.params.iter().any(|p| matches!(p.kind, Kind::Body { .. }));
    let has_query = m.params.iter().any(|p| matches!(p.kind, Kind::Query { .. }));
    // The handler's future is one async block answering a response: a failed binding returns
    // the error's response early instead of going through `?` and a wrapping future, so the
    // boxed future stays small (it is copied into its box on every request).
    let bail = |span: proc_macro2::Span, result: TokenStream| {
        quote_spanned! {span=>
            match #result {
                ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                ::core::result::Result::Err(__doudou_error) => {
                    return #krate::__private::reply::error(&__doudou_error)
                }
            }
        }
    };
    let load = if has_file {
        let fields = m
            .params
            .iter()
            .filter(|p| matches!(p.kind, Kind::File { .. } | Kind::Query { .. }))
            .map(|p| p.ident.to_string());
        let load = bail(ident.span(), quote!(request.load_multipart(&[#(#fields),*]).await));
        quote!(#load;)
    } else if has_query && !has_body {
        let load = bail(ident.span(), quote!(request.load_form().await));
        quote!(#load;)
    } else {
        quote!()
    };
    let bindings = m.params.iter().map(|p| {
        let (i, t) = (&p.ident, &p.ty);
        let name = i.to_string();
        let span = t.span();
        let value = match &p.kind {
            Kind::Path => bail(span, quote_spanned!(span=> request.path(#name))),
            Kind::Query { .. } => bail(span, quote_spanned!(span=> request.param(#name))),
            Kind::Body { optional: false, .. } => {
                bail(span, quote_spanned!(span=> request.json(#name).await))
            }
            Kind::Body { optional: true, .. } => {
                bail(span, quote_spanned!(span=> request.json_opt(#name).await))
            }
            Kind::Headers => quote!(request.headers()),
            Kind::RemoteAddr => quote!(request.remote_addr()),
            Kind::File { multiple: true, .. } => bail(span, quote!(request.files(#name))),
            Kind::File { optional: true, .. } => bail(span, quote!(request.file_opt(#name))),
            Kind::File { .. } => bail(span, quote!(request.file(#name))),
        };
        quote_spanned!(t.span()=> let #i: #t = #value;)
    });
    let args = m.params.iter().map(|p| &p.ident);
    let reply = match m.output {
        Output::Json(_) => quote!(json),
        Output::Empty => quote!(empty),
        Output::Download => quote!(download),
    };
    quote! {
        #index => ::std::boxed::Box::pin(async move {
            #load
            #(#bindings)*
            #krate::__private::reply::#reply(service.#ident(#(#args),*).await)
        }),
    }
}

fn client_method(krate: &syn::Path, m: &Method) -> TokenStream {
    let ident = &m.ident;
    let ret = &m.ret;
    let method = m.verb.method_const();
    let path = &m.path;
    let args = m.params.iter().map(|p| {
        let (i, t) = (&p.ident, &p.ty);
        quote!(#i: #t)
    });
    let sets = m.params.iter().map(|p| {
        let i = &p.ident;
        let name = i.to_string();
        match &p.kind {
            Kind::Path => quote!(call.path(#name, &#i);),
            Kind::Query { .. } => quote!(call.query(#name, &#i);),
            Kind::Body { optional, .. } => {
                let f = if *optional { quote!(json_opt) } else { quote!(json) };
                let encode = quote_spanned!(p.ty.span()=> call.#f(&#i));
                quote! {
                    if let ::core::result::Result::Err(e) = #encode {
                        return ::core::result::Result::Err(::core::convert::From::from(e));
                    }
                }
            }
            Kind::Headers => quote!(call.headers(&#i);),
            Kind::RemoteAddr => quote!(let _ = #i;),
            Kind::File { optional: false, multiple: false } => quote!(call.file(#name, #i);),
            Kind::File { .. } => quote!(call.files(#name, #i);),
        }
    });
    let decode = match m.output {
        Output::Json(_) => quote!(reply.json().await),
        Output::Empty => quote!(reply.empty().await),
        Output::Download => quote!(reply.download()),
    };
    let attrs = m.attrs.iter().filter(|a| !a.path().is_ident("doc"));
    quote! {
        #(#attrs)*
        fn #ident(&self, #(#args),*) -> impl ::core::future::Future<Output = #ret> + ::core::marker::Send {
            async move {
                let mut call = self.client.call(#krate::__private::Method::#method, #path);
                #(#sets)*
                match call.send().await {
                    ::core::result::Result::Ok(reply) => #decode.map_err(::core::convert::From::from),
                    ::core::result::Result::Err(e) => ::core::result::Result::Err(::core::convert::From::from(e)),
                }
            }
        }
    }
}

fn describe_operation(krate: &syn::Path, tag: &str, m: &Method) -> TokenStream {
    let verb = m.verb.variant();
    let path = &m.path;
    let op = m.ident.to_string();
    let doc = &m.doc;
    let mut steps = Vec::new();
    for p in &m.params {
        let name = p.ident.to_string();
        let t = &p.ty;
        steps.push(match &p.kind {
            Kind::Path => quote!(.path::<#t>(#name)),
            Kind::Query { schema_ty, required } => quote!(.query::<#schema_ty>(#name, #required)),
            Kind::Body { schema_ty, optional } => {
                let required = !optional;
                quote!(.json_body::<#schema_ty>(#required))
            }
            Kind::File { optional, multiple } => {
                let required = !optional && !multiple;
                quote!(.file(#name, #required, #multiple))
            }
            Kind::Headers | Kind::RemoteAddr => quote!(),
        });
    }
    steps.push(match &m.output {
        Output::Json(t) => quote!(.json_response::<#t>()),
        Output::Empty => quote!(.empty_response()),
        Output::Download => quote!(.download_response()),
    });
    quote! {
        let _ = api.operation(#krate::Verb::#verb, #path, #op, #doc, #tag) #(#steps)*;
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
    fn snake_case_of_trait_names() {
        assert_eq!(to_snake("Users"), "users");
        assert_eq!(to_snake("HelloWorld"), "hello_world");
    }
}
