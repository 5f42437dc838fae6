//! Stage three: a validated [`ServiceDef`] -> the trait, `{Trait}Client`, `{Trait}Server` and
//! `{trait}_openapi()`.
//!
//! Every parameter is one expression asking the runtime for its binder,
//! `(&&&Kind::<T>::NEW).param("name")`, used three times: by the handler, by the client and by
//! the document. Generated locals are prefixed `__doudou_`, which parameter names cannot be.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::{doc_string, Method, Place, ServiceDef};
use crate::rules;

pub(super) fn generate(service: &ServiceDef) -> TokenStream {
    let ServiceDef { item, krate, methods } = service;
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
        let (ident, attrs, ret, args, lints) = (&m.ident, &m.attrs, &m.ret, typed_args(m), param_lints(m));
        quote! {
            #(#attrs)*
            #(#lints)*
            fn #ident(&self, #(#args),*) -> impl ::core::future::Future<Output = #ret> + ::core::marker::Send;
        }
    });
    let routes = methods.iter().map(|m| {
        let verb = Ident::new(m.verb.constructor(), Span::call_site());
        let (path, op) = (&m.path, m.ident.to_string());
        quote!(#krate::Route::#verb(#path, #op))
    });
    let docs = methods.iter().map(|m| &m.doc);
    let endpoints = methods.iter().enumerate().map(|(index, m)| {
        let (sig, ret) = (endpoint_fn(m), &m.ret);
        let types = m.params.iter().map(|p| &p.ty);
        let binders = binders(krate, m);
        // Spanned on the return type: what does not fit the endpoint is reported there.
        let body = quote_spanned!(ret.span()=> (&__DOUDOU_ROUTES[#index], #binders, #krate::__private::returns::<#ret>()));
        let endpoint = quote_spanned!(ret.span()=> impl __DoudouEndpoint<(#(#types,)*), Output = #ret>);
        quote! {
            fn #sig() -> #endpoint {
                #body
            }
        }
    });
    let arms = methods.iter().enumerate().map(|(index, m)| {
        let (sig, ident) = (endpoint_fn(m), &m.ident);
        quote!(#index => __doudou_handler.handle(#sig(), <__DoudouImpl as #trait_ident>::#ident),)
    });
    let client_methods = methods.iter().map(|m| {
        let (ident, ret, args, sig) = (&m.ident, &m.ret, typed_args(m), endpoint_fn(m));
        let attrs = m.attrs.iter().filter(|a| !a.path().is_ident("doc"));
        let values = m.params.iter().map(|p| &p.ident);
        let lints = param_lints(m);
        quote! {
            #(#attrs)*
            #(#lints)*
            fn #ident(&self, #(#args),*) -> impl ::core::future::Future<Output = #ret> + ::core::marker::Send {
                #krate::__private::call(&self.client, #sig(), (#(#values,)*))
            }
        }
    });
    let operations = methods.iter().enumerate().map(|(index, m)| {
        let sig = endpoint_fn(m);
        quote!(__doudou_ops.add(__DOUDOU_DOCS[#index], #sig());)
    });

    let client_doc = format!(
        "A typed HTTP client of [`{trait_name}`]: each call is a request to an instance of the service."
    );
    let server_doc = format!(
        "Serves an implementation of [`{trait_name}`]: pass it to `doudou::serve` or `doudou::Server::service`."
    );
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

        #[doc = #server_doc]
        #vis struct #server<T> {
            inner: ::std::sync::Arc<T>,
        }

        #[doc = #openapi_doc]
        #vis fn #openapi_fn() -> #krate::__private::serde_json::Value {
            #krate::__private::openapi_doc(#trait_name, ::core::env!("CARGO_PKG_VERSION"), #client::describe)
        }

        #[allow(clippy::type_complexity)]
        const _: () = {
            #[allow(unused_imports)]
            use #krate::__private::{
                Endpoint as __DoudouEndpoint, Kind as __DoudouKind, ViaRequest as _, ViaScalar as _,
            };

            const __DOUDOU_ROUTES: &[#krate::Route] = &[#(#routes),*];
            const __DOUDOU_DOCS: &[&str] = &[#(#docs),*];

            #(#endpoints)*

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
                #vis fn describe(__doudou_api: &mut #krate::__private::ApiBuilder) {
                    let mut __doudou_ops = #krate::__private::Operations::new(__doudou_api, #trait_name, #trait_doc);
                    #(#operations)*
                }
            }

            impl #trait_ident for #client {
                #(#client_methods)*
            }

            impl<__DoudouImpl: #trait_ident> #server<__DoudouImpl> {
                /// Serves `service`.
                #vis fn new(service: __DoudouImpl) -> Self {
                    Self { inner: ::std::sync::Arc::new(service) }
                }

                /// Serves a service that is shared with other parts of the program.
                #vis fn from_arc(service: ::std::sync::Arc<__DoudouImpl>) -> Self {
                    Self { inner: service }
                }
            }

            impl<__DoudouImpl> ::core::clone::Clone for #server<__DoudouImpl> {
                fn clone(&self) -> Self {
                    Self { inner: <::std::sync::Arc<__DoudouImpl> as ::core::clone::Clone>::clone(&self.inner) }
                }
            }

            impl<__DoudouImpl: #trait_ident> #krate::Service for #server<__DoudouImpl> {
                fn name(&self) -> &'static str {
                    #trait_name
                }

                fn routes(&self) -> &'static [#krate::Route] {
                    __DOUDOU_ROUTES
                }

                fn call(
                    &self,
                    __doudou_route: usize,
                    __doudou_request: #krate::__private::Request,
                ) -> #krate::__private::BoxFuture<#krate::__private::Response<#krate::__private::Body>> {
                    let __doudou_service = <::std::sync::Arc<__DoudouImpl> as ::core::clone::Clone>::clone(&self.inner);
                    let __doudou_handler = #krate::__private::Handler::new(__doudou_request, __doudou_service);
                    match __doudou_route {
                        #(#arms)*
                        _ => #krate::__private::unknown_route(),
                    }
                }

                fn describe(&self, __doudou_api: &mut #krate::__private::ApiBuilder) {
                    #client::describe(__doudou_api)
                }

                fn build_info(&self) -> #krate::BuildInfo {
                    #krate::__private::build_info(
                        ::core::env!("CARGO_PKG_VERSION"),
                        ::core::option_env!("GDD_GIT_COMMIT"),
                        ::core::option_env!("GDD_BUILD_TIME"),
                    )
                }
            }
        };
    }
}

/// The hidden function giving a method's binders and responder, once for the handler, the
/// client and the document.
fn endpoint_fn(m: &Method) -> Ident {
    format_ident!("__doudou_{}", m.ident.to_string().trim_start_matches("r#"))
}

/// The lint attributes of the parameters (`#[allow(non_snake_case)]` on `pageSize`), for the
/// generated functions too: rustc reads a parameter's name lints at the function.
fn param_lints(m: &Method) -> impl Iterator<Item = &syn::Attribute> + '_ {
    m.params
        .iter()
        .flat_map(|p| &p.attrs)
        .filter(|a| ["allow", "expect", "warn", "deny"].iter().any(|lint| a.path().is_ident(lint)))
}

/// `name: Type` of each parameter.
fn typed_args(m: &Method) -> impl Iterator<Item = TokenStream> + '_ {
    m.params.iter().map(|p| {
        let (i, t, attrs) = (&p.ident, &p.ty, &p.attrs);
        quote!(#(#attrs)* #i: #t)
    })
}

/// The tuple of the parameters' binders; each spanned on its type, so that a type that cannot
/// be a parameter is reported there. A parameter with rules is wrapped in a binder that checks
/// them and states them in the document.
fn binders(krate: &syn::Path, m: &Method) -> TokenStream {
    let each = m.params.iter().map(|p| {
        let (ty, name) = (&p.ty, &p.name);
        let how = if p.in_path {
            quote_spanned!(ty.span()=> path)
        } else if p.place == Place::Header {
            quote_spanned!(ty.span()=> header)
        } else if p.place == Place::Cookie {
            quote_spanned!(ty.span()=> cookie)
        } else if m.verb.has_body() {
            quote_spanned!(ty.span()=> param)
        } else {
            quote_spanned!(ty.span()=> param_without_body)
        };
        let binder = quote_spanned!(ty.span()=> (&&&__DoudouKind::<#ty>::NEW).#how(#name));
        if p.rules.is_empty() {
            return binder;
        }
        let (value, report) = (quote!(__doudou_value), quote!(__doudou_report));
        let checks = rules::checks(krate, &p.rules, name, (&value, ty), &report);
        let doc = rules::doc_rules(krate, &p.rules);
        quote! {
            #krate::__private::checked(
                #binder,
                |#value, #report| { #checks },
                |__doudou_op| __doudou_op.constrain(#name, &#doc),
            )
        }
    });
    quote!((#(#each,)*))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_trait_names() {
        assert_eq!(to_snake("Users"), "users");
        assert_eq!(to_snake("HelloWorld"), "hello_world");
    }
}
