// Generated code must not depend on the prelude or on the name the user gave the crate:
// the services live in a prelude-free module where doudou is only reachable as `dd`.
extern crate doudou as dd;

// serde's and schemars' derives need the prelude, so models stay outside.
#[dd::model]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

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
    }

    pub struct Impl;

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
    }
}

fn main() {
    let _server = api::PlainServer::new(api::Impl);
    let _client = api::PlainClient::new("http://127.0.0.1:1");
    let _doc = api::plain_openapi();
}
