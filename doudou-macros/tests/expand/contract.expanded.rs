#[derive(
    ::doudou::__private::serde::Serialize,
    ::doudou::__private::serde::Deserialize,
    ::doudou::__private::schemars::JsonSchema
)]
#[serde(crate = "::doudou::__private::serde")]
#[schemars(crate = "::doudou::__private::schemars")]
pub struct NewUser {
    #[validate(length(min = 1, max = 64))]
    pub name: String,
    #[validate(email)]
    pub email: String,
    #[validate(regex(pattern = "^[0-9]{5}$"))]
    pub zip: String,
    #[validate(nested)]
    pub address: Address,
}
impl ::doudou::Model for NewUser
where
    Self: ::doudou::__private::serde::Serialize
        + ::doudou::__private::serde::de::DeserializeOwned
        + ::doudou::__private::schemars::JsonSchema + ::core::marker::Send + 'static,
{
    const VALIDATES: bool = true;
    fn validate(&self, __doudou_report: &mut ::doudou::__private::Report) {
        __doudou_report
            .length(
                "name",
                &self.name,
                (
                    ::core::option::Option::Some((1) as u64),
                    ::core::option::Option::Some((64) as u64),
                    ::core::option::Option::None,
                ),
                ::core::option::Option::None,
            );
        __doudou_report.email("email", &self.email, ::core::option::Option::None);
        {
            static __DOUDOU_PATTERN: ::doudou::__private::Pattern = ::doudou::__private::Pattern::new(
                "^[0-9]{5}$",
            );
            __doudou_report
                .pattern(
                    "zip",
                    &self.zip,
                    &__DOUDOU_PATTERN,
                    ::core::option::Option::None,
                );
        }
        __doudou_report.nested("address", &self.address);
    }
}
pub enum UserError {
    /// No user has this id.
    NotFound,
    Conflict { existing_id: u64 },
    Other(doudou::Error),
}
impl ::doudou::ServiceError for UserError {
    fn into_error(self) -> ::doudou::Error {
        let __doudou_message = ::std::string::ToString::to_string(&self);
        match self {
            Self::NotFound {} => {
                ::doudou::__private::DataWriter::new()
                    .finish(404u16, 40401i64, __doudou_message)
            }
            Self::Conflict { existing_id } => {
                ::doudou::__private::DataWriter::new()
                    .field("existing_id", &existing_id)
                    .finish(409u16, 40901i64, __doudou_message)
            }
            Self::Other(__doudou_error) => __doudou_error,
        }
    }
    fn from_error(__doudou_error: ::doudou::Error) -> Self {
        let __doudou_reader = ::doudou::__private::DataReader::new(&__doudou_error);
        let __doudou_known: ::core::option::Option<Self> = match (
            __doudou_error.status().as_u16(),
            __doudou_error.code(),
        ) {
            (404u16, 40401i64) => ::core::option::Option::Some(Self::NotFound {}),
            (409u16, 40901i64) => {
                (|| ::core::option::Option::Some(Self::Conflict {
                    existing_id: __doudou_reader.field("existing_id")?,
                }))()
            }
            _ => ::core::option::Option::None,
        };
        match __doudou_known {
            ::core::option::Option::Some(__doudou_variant) => __doudou_variant,
            ::core::option::Option::None => Self::Other(__doudou_error),
        }
    }
    fn describe(__doudou_op: &mut ::doudou::__private::Operation<'_>) {
        let __doudou_fields = ::std::vec![];
        __doudou_op
            .business_error(
                404u16,
                40401i64,
                "NotFound",
                "No user has this id.",
                __doudou_fields,
            );
        let __doudou_fields = ::std::vec![
            ("existing_id", __doudou_op.schema:: < u64 > ())
        ];
        __doudou_op.business_error(409u16, 40901i64, "Conflict", "", __doudou_fields);
    }
}
impl ::core::convert::From<::doudou::Error> for UserError {
    fn from(__doudou_error: ::doudou::Error) -> Self {
        Self::Other(__doudou_error)
    }
}
pub trait Users: ::core::marker::Send + ::core::marker::Sync + 'static {
    fn create_user(
        &self,
        user: NewUser,
    ) -> impl ::core::future::Future<
        Output = Result<u64, UserError>,
    > + ::core::marker::Send;
    fn get_users(
        &self,
        size: u32,
    ) -> impl ::core::future::Future<
        Output = Result<u64, doudou::Error>,
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
        ::doudou::Route::post("/create/user", "create_user"),
        ::doudou::Route::get("/users", "get_users"),
    ];
    const __DOUDOU_DOCS: &[&str] = &["", ""];
    fn __doudou_create_user() -> impl __DoudouEndpoint<
        (NewUser,),
        Output = Result<u64, UserError>,
    > {
        (
            &__DOUDOU_ROUTES[0usize],
            ((&&&__DoudouKind::<NewUser>::NEW).param("user"),),
            ::doudou::__private::returns::<Result<u64, UserError>>(),
        )
    }
    fn __doudou_get_users() -> impl __DoudouEndpoint<
        (u32,),
        Output = Result<u64, doudou::Error>,
    > {
        (
            &__DOUDOU_ROUTES[1usize],
            (
                ::doudou::__private::checked(
                    (&&&__DoudouKind::<u32>::NEW).param_without_body("size"),
                    |__doudou_value, __doudou_report| {
                        __doudou_report
                            .range(
                                "size",
                                __doudou_value,
                                (
                                    ::core::option::Option::Some((1) as f64),
                                    ::core::option::Option::Some((100) as f64),
                                ),
                                ::core::option::Option::None,
                            );
                    },
                    |__doudou_op| {
                        __doudou_op
                            .constrain(
                                "size",
                                &[
                                    ::doudou::__private::Rule::Range {
                                        min: ::core::option::Option::Some((1) as f64),
                                        max: ::core::option::Option::Some((100) as f64),
                                    },
                                ],
                            )
                    },
                ),
            ),
            ::doudou::__private::returns::<Result<u64, doudou::Error>>(),
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
                "",
            );
            __doudou_ops.add(__DOUDOU_DOCS[0usize], __doudou_create_user());
            __doudou_ops.add(__DOUDOU_DOCS[1usize], __doudou_get_users());
        }
    }
    impl Users for UsersClient {
        fn create_user(
            &self,
            user: NewUser,
        ) -> impl ::core::future::Future<
            Output = Result<u64, UserError>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_create_user(), (user,))
        }
        fn get_users(
            &self,
            size: u32,
        ) -> impl ::core::future::Future<
            Output = Result<u64, doudou::Error>,
        > + ::core::marker::Send {
            ::doudou::__private::call(&self.client, __doudou_get_users(), (size,))
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
                        .handle(
                            __doudou_create_user(),
                            <__DoudouImpl as Users>::create_user,
                        )
                }
                1usize => {
                    __doudou_handler
                        .handle(__doudou_get_users(), <__DoudouImpl as Users>::get_users)
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
