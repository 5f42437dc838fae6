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
    pub fn discover(service: impl ::core::convert::Into<::std::string::String>) -> Self {
        Self {
            client: ::doudou::Client::discover(service),
        }
    }
    /// A client over an existing `doudou::Client`, e.g. one with a load-balancing provider.
    pub fn with_client(client: ::doudou::Client) -> Self {
        Self { client }
    }
    #[doc(hidden)]
    pub fn describe(api: &mut ::doudou::__private::ApiBuilder) {
        api.tag("Users", "The SPEC's example service.");
        let _ = api
            .operation(
                ::doudou::Verb::Get,
                "/user",
                "get_user",
                "Fetch one user.",
                "Users",
            )
            .query::<u64>("id", true)
            .json_response::<User>();
        let _ = api
            .operation(
                ::doudou::Verb::Post,
                "/page/users",
                "page_users",
                "A page of users.",
                "Users",
            )
            .json_body::<PageQuery>(true)
            .json_response::<Page<User>>();
        let _ = api
            .operation(::doudou::Verb::Delete, "/user", "delete_user", "", "Users")
            .query::<u64>("id", true)
            .empty_response();
        let _ = api
            .operation(::doudou::Verb::Get, "/users/{id}/avatar", "avatar", "", "Users")
            .path::<u64>("id")
            .query::<u32>("size", false)
            .download_response();
        let _ = api
            .operation(::doudou::Verb::Post, "/upload", "upload", "", "Users")
            .file("file", true, false)
            .query::<Vec<String>>("tags", false)
            .empty_response();
    }
}
impl Users for UsersClient {
    fn get_user(
        &self,
        id: u64,
    ) -> impl ::core::future::Future<
        Output = Result<User, doudou::Error>,
    > + ::core::marker::Send {
        async move {
            let mut call = self.client.call(::doudou::__private::Method::GET, "/user");
            call.query("id", &id);
            match call.send().await {
                ::core::result::Result::Ok(reply) => {
                    reply.json().await.map_err(::core::convert::From::from)
                }
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(::core::convert::From::from(e))
                }
            }
        }
    }
    fn page_users(
        &self,
        query: PageQuery,
    ) -> impl ::core::future::Future<
        Output = Result<Page<User>, doudou::Error>,
    > + ::core::marker::Send {
        async move {
            let mut call = self
                .client
                .call(::doudou::__private::Method::POST, "/page/users");
            if let ::core::result::Result::Err(e) = call.json(&query) {
                return ::core::result::Result::Err(::core::convert::From::from(e));
            }
            match call.send().await {
                ::core::result::Result::Ok(reply) => {
                    reply.json().await.map_err(::core::convert::From::from)
                }
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(::core::convert::From::from(e))
                }
            }
        }
    }
    fn delete_user(
        &self,
        id: u64,
    ) -> impl ::core::future::Future<
        Output = Result<(), doudou::Error>,
    > + ::core::marker::Send {
        async move {
            let mut call = self
                .client
                .call(::doudou::__private::Method::DELETE, "/user");
            call.query("id", &id);
            match call.send().await {
                ::core::result::Result::Ok(reply) => {
                    reply.empty().await.map_err(::core::convert::From::from)
                }
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(::core::convert::From::from(e))
                }
            }
        }
    }
    fn avatar(
        &self,
        id: u64,
        size: Option<u32>,
    ) -> impl ::core::future::Future<
        Output = Result<doudou::FileDownload, doudou::Error>,
    > + ::core::marker::Send {
        async move {
            let mut call = self
                .client
                .call(::doudou::__private::Method::GET, "/users/{id}/avatar");
            call.path("id", &id);
            call.query("size", &size);
            match call.send().await {
                ::core::result::Result::Ok(reply) => {
                    reply.download().map_err(::core::convert::From::from)
                }
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(::core::convert::From::from(e))
                }
            }
        }
    }
    fn upload(
        &self,
        file: doudou::UploadFile,
        tags: Vec<String>,
    ) -> impl ::core::future::Future<
        Output = Result<(), doudou::Error>,
    > + ::core::marker::Send {
        async move {
            let mut call = self
                .client
                .call(::doudou::__private::Method::POST, "/upload");
            call.file("file", file);
            call.query("tags", &tags);
            match call.send().await {
                ::core::result::Result::Ok(reply) => {
                    reply.empty().await.map_err(::core::convert::From::from)
                }
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(::core::convert::From::from(e))
                }
            }
        }
    }
}
///Serves an implementation of [`Users`]: pass it to `doudou::serve` or `doudou::Server::service`.
pub struct UsersServer<T> {
    inner: ::std::sync::Arc<T>,
}
impl<T: Users> UsersServer<T> {
    /// Serves `service`.
    pub fn new(service: T) -> Self {
        Self {
            inner: ::std::sync::Arc::new(service),
        }
    }
    /// Serves a service that is shared with other parts of the program.
    pub fn from_arc(service: ::std::sync::Arc<T>) -> Self {
        Self { inner: service }
    }
}
impl<T> ::core::clone::Clone for UsersServer<T> {
    fn clone(&self) -> Self {
        Self {
            inner: <::std::sync::Arc<T> as ::core::clone::Clone>::clone(&self.inner),
        }
    }
}
impl<T: Users> ::doudou::Service for UsersServer<T> {
    fn name(&self) -> &'static str {
        "Users"
    }
    fn routes(&self) -> &'static [::doudou::Route] {
        const ROUTES: &[::doudou::Route] = &[
            ::doudou::Route {
                verb: ::doudou::Verb::Get,
                path: "/user",
                operation: "get_user",
            },
            ::doudou::Route {
                verb: ::doudou::Verb::Post,
                path: "/page/users",
                operation: "page_users",
            },
            ::doudou::Route {
                verb: ::doudou::Verb::Delete,
                path: "/user",
                operation: "delete_user",
            },
            ::doudou::Route {
                verb: ::doudou::Verb::Get,
                path: "/users/{id}/avatar",
                operation: "avatar",
            },
            ::doudou::Route {
                verb: ::doudou::Verb::Post,
                path: "/upload",
                operation: "upload",
            },
        ];
        ROUTES
    }
    #[allow(unused_mut)]
    fn call(
        &self,
        route: usize,
        mut request: ::doudou::__private::Request,
    ) -> ::doudou::__private::BoxFuture<
        ::doudou::__private::Response<::doudou::__private::Body>,
    > {
        let service = <::std::sync::Arc<T> as ::core::clone::Clone>::clone(&self.inner);
        match route {
            0usize => {
                ::std::boxed::Box::pin(async move {
                    match request.load_form().await {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let id: u64 = match request.param("id") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    ::doudou::__private::reply::json(service.get_user(id).await)
                })
            }
            1usize => {
                ::std::boxed::Box::pin(async move {
                    let query: PageQuery = match request.json("query").await {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    ::doudou::__private::reply::json(service.page_users(query).await)
                })
            }
            2usize => {
                ::std::boxed::Box::pin(async move {
                    match request.load_form().await {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let id: u64 = match request.param("id") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    ::doudou::__private::reply::empty(service.delete_user(id).await)
                })
            }
            3usize => {
                ::std::boxed::Box::pin(async move {
                    match request.load_form().await {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let id: u64 = match request.path("id") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let size: Option<u32> = match request.param("size") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    ::doudou::__private::reply::download(service.avatar(id, size).await)
                })
            }
            4usize => {
                ::std::boxed::Box::pin(async move {
                    match request.load_multipart(&["file", "tags"]).await {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let file: doudou::UploadFile = match request.file("file") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    let tags: Vec<String> = match request.param("tags") {
                        ::core::result::Result::Ok(__doudou_value) => __doudou_value,
                        ::core::result::Result::Err(__doudou_error) => {
                            return ::doudou::__private::reply::error(&__doudou_error);
                        }
                    };
                    ::doudou::__private::reply::empty(service.upload(file, tags).await)
                })
            }
            _ => ::doudou::__private::unknown_route(),
        }
    }
    fn describe(&self, api: &mut ::doudou::__private::ApiBuilder) {
        UsersClient::describe(api)
    }
    fn build_info(&self) -> ::doudou::BuildInfo {
        ::doudou::BuildInfo {
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
///The OpenAPI 3.0 document of [`Users`].
pub fn users_openapi() -> ::doudou::__private::serde_json::Value {
    ::doudou::__private::openapi_doc(
        "Users",
        ::core::env!("CARGO_PKG_VERSION"),
        UsersClient::describe,
    )
}
