/// Empty.
pub trait Users: ::core::marker::Send + ::core::marker::Sync + 'static {}
///A typed HTTP client of [`Users`]: each call is a request to an instance of the service.
#[derive(::core::clone::Clone, ::core::fmt::Debug)]
pub struct UsersClient {
    client: ::doudou::Client,
}
///Serves an implementation of [`Users`]: pass it to `doudou::serve` or `doudou::Server::service`.
pub struct UsersServer<T> {
    inner: ::std::sync::Arc<T>,
}
///The OpenAPI 3.0 document of [`Users`].
pub fn users_openapi() -> ::doudou::__private::serde_json::Value {
    ::doudou::__private::openapi_doc(
        "Users",
        ::core::env!("CARGO_PKG_VERSION"),
        UsersClient::describe,
    )
}
#[allow(clippy::type_complexity)]
const _: () = {
    #[allow(unused_imports)]
    use ::doudou::__private::{
        Endpoint as __DoudouEndpoint, Kind as __DoudouKind, ViaRequest as _,
        ViaScalar as _,
    };
    const __DOUDOU_ROUTES: &[::doudou::Route] = &[];
    const __DOUDOU_DOCS: &[&str] = &[];
    impl UsersClient {
        /// A client of the instance at `base_url`, e.g. `http://127.0.0.1:6060`.
        pub fn new(base_url: impl ::core::convert::Into<::std::string::String>) -> Self {
            Self {
                client: ::doudou::Client::new(base_url),
            }
        }
        /// A client of the instances of `service` (their `GDD_SERVICE_NAME`) found through
        /// gossip, load-balanced by their weights; a call that cannot connect is retried on
        /// another instance.
        pub fn discover(
            service: impl ::core::convert::Into<::std::string::String>,
        ) -> Self {
            Self {
                client: ::doudou::Client::discover(service),
            }
        }
        /// A client over an existing `doudou::Client`, e.g. one with a load-balancing provider.
        pub fn with_client(client: ::doudou::Client) -> Self {
            Self { client }
        }
        #[doc(hidden)]
        pub fn describe(__doudou_api: &mut ::doudou::__private::ApiBuilder) {
            let mut __doudou_ops = ::doudou::__private::Operations::new(
                __doudou_api,
                "Users",
                "Empty.",
            );
        }
    }
    impl Users for UsersClient {}
    impl<__DoudouImpl: Users> UsersServer<__DoudouImpl> {
        /// Serves `service`.
        pub fn new(service: __DoudouImpl) -> Self {
            Self {
                inner: ::std::sync::Arc::new(service),
            }
        }
        /// Serves a service that is shared with other parts of the program.
        pub fn from_arc(service: ::std::sync::Arc<__DoudouImpl>) -> Self {
            Self { inner: service }
        }
    }
    impl<__DoudouImpl> ::core::clone::Clone for UsersServer<__DoudouImpl> {
        fn clone(&self) -> Self {
            Self {
                inner: <::std::sync::Arc<
                    __DoudouImpl,
                > as ::core::clone::Clone>::clone(&self.inner),
            }
        }
    }
    impl<__DoudouImpl: Users> ::doudou::Service for UsersServer<__DoudouImpl> {
        fn name(&self) -> &'static str {
            "Users"
        }
        fn routes(&self) -> &'static [::doudou::Route] {
            __DOUDOU_ROUTES
        }
        fn call(
            &self,
            __doudou_route: usize,
            __doudou_request: ::doudou::__private::Request,
        ) -> ::doudou::__private::BoxFuture<
            ::doudou::__private::Response<::doudou::__private::Body>,
        > {
            let __doudou_service = <::std::sync::Arc<
                __DoudouImpl,
            > as ::core::clone::Clone>::clone(&self.inner);
            let __doudou_handler = ::doudou::__private::Handler::new(
                __doudou_request,
                __doudou_service,
            );
            match __doudou_route {
                _ => ::doudou::__private::unknown_route(),
            }
        }
        fn describe(&self, __doudou_api: &mut ::doudou::__private::ApiBuilder) {
            UsersClient::describe(__doudou_api)
        }
        fn build_info(&self) -> ::doudou::BuildInfo {
            ::doudou::__private::build_info(
                ::core::env!("CARGO_PKG_VERSION"),
                ::core::option_env!("GDD_GIT_COMMIT"),
                ::core::option_env!("GDD_BUILD_TIME"),
            )
        }
    }
};
