/// The SPEC's example service.
pub trait Users: ::core::marker::Send + ::core::marker::Sync + 'static {
    /// Fetch one user.
    fn get_user(
        &self,
        id: u64,
    ) -> impl ::core::future::Future<
        Output = Result<User, doudou::Error>,
    > + ::core::marker::Send;
    /// A page of users.
    fn page_users(
        &self,
        query: PageQuery,
    ) -> impl ::core::future::Future<
        Output = Result<Page<User>, doudou::Error>,
    > + ::core::marker::Send;
    fn delete_user(
        &self,
        id: u64,
    ) -> impl ::core::future::Future<
        Output = Result<(), doudou::Error>,
    > + ::core::marker::Send;
    fn avatar(
        &self,
        id: u64,
        size: Option<u32>,
    ) -> impl ::core::future::Future<
        Output = Result<doudou::FileDownload, doudou::Error>,
    > + ::core::marker::Send;
    fn upload(
        &self,
        file: doudou::UploadFile,
        tags: Vec<String>,
    ) -> impl ::core::future::Future<
        Output = Result<(), doudou::Error>,
    > + ::core::marker::Send;
}
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
    const __DOUDOU_ROUTES: &[::doudou::Route] = &[
        ::doudou::Route::get("/user", "get_user"),
        ::doudou::Route::post("/page/users", "page_users"),
        ::doudou::Route::delete("/user", "delete_user"),
        ::doudou::Route::get("/users/{id}/avatar", "avatar"),
        ::doudou::Route::post("/upload", "upload"),
    ];
    const __DOUDOU_DOCS: &[&str] = &["Fetch one user.", "A page of users.", "", "", ""];
    fn __doudou_get_user() -> impl __DoudouEndpoint<
        (u64,),
        Output = Result<User, doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[0usize],
            ((&&&__DoudouKind::<u64>::NEW).param_without_body("id"),),
            ::doudou::__private::returns::<Result<User, doudou::Error>>(),
        )
    }
    fn __doudou_page_users() -> impl __DoudouEndpoint<
        (PageQuery,),
        Output = Result<Page<User>, doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[1usize],
            ((&&&__DoudouKind::<PageQuery>::NEW).param("query"),),
            ::doudou::__private::returns::<Result<Page<User>, doudou::Error>>(),
        )
    }
    fn __doudou_delete_user() -> impl __DoudouEndpoint<
        (u64,),
        Output = Result<(), doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[2usize],
            ((&&&__DoudouKind::<u64>::NEW).param_without_body("id"),),
            ::doudou::__private::returns::<Result<(), doudou::Error>>(),
        )
    }
    fn __doudou_avatar() -> impl __DoudouEndpoint<
        (u64, Option<u32>),
        Output = Result<doudou::FileDownload, doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[3usize],
            (
                (&&&__DoudouKind::<u64>::NEW).path("id"),
                (&&&__DoudouKind::<Option<u32>>::NEW).param_without_body("size"),
            ),
            ::doudou::__private::returns::<Result<doudou::FileDownload, doudou::Error>>(),
        )
    }
    fn __doudou_upload() -> impl __DoudouEndpoint<
        (doudou::UploadFile, Vec<String>),
        Output = Result<(), doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[4usize],
            (
                (&&&__DoudouKind::<doudou::UploadFile>::NEW).param("file"),
                (&&&__DoudouKind::<Vec<String>>::NEW).param("tags"),
            ),
            ::doudou::__private::returns::<Result<(), doudou::Error>>(),
        )
    }
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
                "The SPEC's example service.",
            );
            __doudou_ops.add(__DOUDOU_DOCS[0usize], __doudou_get_user());
            __doudou_ops.add(__DOUDOU_DOCS[1usize], __doudou_page_users());
            __doudou_ops.add(__DOUDOU_DOCS[2usize], __doudou_delete_user());
            __doudou_ops.add(__DOUDOU_DOCS[3usize], __doudou_avatar());
            __doudou_ops.add(__DOUDOU_DOCS[4usize], __doudou_upload());
        }
    }
    impl Users for UsersClient {
        fn get_user(
            &self,
            id: u64,
        ) -> impl ::core::future::Future<
            Output = Result<User, doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_get_user(), (id,))
        }
        fn page_users(
            &self,
            query: PageQuery,
        ) -> impl ::core::future::Future<
            Output = Result<Page<User>, doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_page_users(), (query,))
        }
        fn delete_user(
            &self,
            id: u64,
        ) -> impl ::core::future::Future<
            Output = Result<(), doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_delete_user(), (id,))
        }
        fn avatar(
            &self,
            id: u64,
            size: Option<u32>,
        ) -> impl ::core::future::Future<
            Output = Result<doudou::FileDownload, doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_avatar(), (id, size))
        }
        fn upload(
            &self,
            file: doudou::UploadFile,
            tags: Vec<String>,
        ) -> impl ::core::future::Future<
            Output = Result<(), doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_upload(), (file, tags))
        }
    }
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
                0usize => {
                    __doudou_handler
                        .handle(__doudou_get_user(), <__DoudouImpl as Users>::get_user)
                }
                1usize => {
                    __doudou_handler
                        .handle(
                            __doudou_page_users(),
                            <__DoudouImpl as Users>::page_users,
                        )
                }
                2usize => {
                    __doudou_handler
                        .handle(
                            __doudou_delete_user(),
                            <__DoudouImpl as Users>::delete_user,
                        )
                }
                3usize => {
                    __doudou_handler
                        .handle(__doudou_avatar(), <__DoudouImpl as Users>::avatar)
                }
                4usize => {
                    __doudou_handler
                        .handle(__doudou_upload(), <__DoudouImpl as Users>::upload)
                }
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
