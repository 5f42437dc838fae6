// Generated code must not depend on the prelude or on the name the user gave the crate:
// the services live in a prelude-free module where doudou is only reachable as `dd`.
// Parameters are named like every local the generated code could have used, and the types
// are named like the generic parameters it could have used.
extern crate doudou as dd;

// serde's and schemars' derives need the prelude, so models stay outside.
#[dd::model]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

// Rules on fields, a pattern among them, and a nested model.
#[dd::model]
pub struct Checked {
    #[validate(length(min = 1, max = 8), regex(pattern = "^[a-z]+$"))]
    pub name: String,
    #[validate(range(min = -1, max = 1.5))]
    pub ratio: f64,
    #[validate(nested)]
    pub point: Point,
}

#[allow(dead_code)]
pub struct T;
#[allow(dead_code)]
pub struct M;

#[no_implicit_prelude]
mod api {
    use super::dd;

    #[dd::service]
    pub trait Plain {
        async fn get_value(
            &self,
            key: ::std::string::String,
            n: ::std::option::Option<u32>,
        ) -> ::core::result::Result<u64, dd::Error>;
        async fn put_list(&self, items: ::std::vec::Vec<u64>) -> ::core::result::Result<(), dd::Error>;
        async fn post_point(&self, point: super::Point) -> ::core::result::Result<super::Point, dd::Error>;
        #[allow(clippy::too_many_arguments)]
        async fn get_names(
            &self,
            service: u32,
            request: u32,
            call: u32,
            client: u32,
            api: u32,
            route: u32,
            handler: u32,
            method: u32,
        ) -> ::core::result::Result<u32, dd::Error>;
        async fn post_more(
            &self,
            values: u32,
            binders: u32,
            endpoint: u32,
            inner: u32,
            reply: u32,
            ops: u32,
            path: u32,
            body: u32,
        ) -> ::core::result::Result<u32, dd::Error>;
    }

    #[dd::error]
    #[derive(Debug)]
    pub enum PlainError {
        #[error(status = 404, code = 40401)]
        Missing,
        #[error(status = 409, code = 40901)]
        Taken { by: u64, note: ::std::option::Option<::std::string::String> },
        #[error(other)]
        Other(dd::Error),
    }

    impl ::core::fmt::Display for PlainError {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str("plain")
        }
    }

    #[dd::service]
    pub trait Contract {
        async fn get_checked(
            &self,
            #[validate(range(min = 1, max = 10))] n: u32,
            #[validate(length(max = 3), email)] to: ::std::vec::Vec<::std::string::String>,
        ) -> ::core::result::Result<u32, PlainError>;
        async fn post_checked(&self, c: super::Checked) -> ::core::result::Result<(), PlainError>;
    }

    pub struct Impl;

    impl Contract for Impl {
        async fn get_checked(
            &self,
            n: u32,
            _to: ::std::vec::Vec<::std::string::String>,
        ) -> ::core::result::Result<u32, PlainError> {
            if n == 2 {
                return ::core::result::Result::Err(PlainError::Taken { by: 1, note: ::core::option::Option::None });
            }
            ::core::result::Result::Err(PlainError::Missing)
        }
        async fn post_checked(&self, _c: super::Checked) -> ::core::result::Result<(), PlainError> {
            ::core::result::Result::Ok(())
        }
    }

    impl Plain for Impl {
        async fn get_value(
            &self,
            _key: ::std::string::String,
            _n: ::std::option::Option<u32>,
        ) -> ::core::result::Result<u64, dd::Error> {
            ::core::result::Result::Ok(1)
        }
        async fn put_list(&self, _items: ::std::vec::Vec<u64>) -> ::core::result::Result<(), dd::Error> {
            ::core::result::Result::Ok(())
        }
        async fn post_point(&self, point: super::Point) -> ::core::result::Result<super::Point, dd::Error> {
            ::core::result::Result::Ok(point)
        }
        async fn get_names(
            &self,
            service: u32,
            request: u32,
            call: u32,
            client: u32,
            api: u32,
            route: u32,
            handler: u32,
            method: u32,
        ) -> ::core::result::Result<u32, dd::Error> {
            ::core::result::Result::Ok(service + request + call + client + api + route + handler + method)
        }
        async fn post_more(
            &self,
            values: u32,
            binders: u32,
            endpoint: u32,
            inner: u32,
            reply: u32,
            ops: u32,
            path: u32,
            body: u32,
        ) -> ::core::result::Result<u32, dd::Error> {
            ::core::result::Result::Ok(values + binders + endpoint + inner + reply + ops + path + body)
        }
    }
}

// Types named like the generated code's generic parameters.
#[dd::service]
pub trait Shadows {
    async fn post_t(&self, t: Vec<u8>) -> Result<u64, dd::Error>;
}

struct ShadowsImpl;

impl Shadows for ShadowsImpl {
    async fn post_t(&self, t: Vec<u8>) -> Result<u64, dd::Error> {
        Ok(t.len() as u64)
    }
}

fn main() {
    let _server = api::PlainServer::new(api::Impl);
    let _client = api::PlainClient::new("http://127.0.0.1:1");
    let _doc = api::plain_openapi();
    let _shadows = ShadowsServer::new(ShadowsImpl);
    let _contract = api::ContractServer::new(api::Impl);
}
