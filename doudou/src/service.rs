//! The contract between `#[doudou::service]` and the runtime.
//!
//! The macro implements [`Service`] for `{Trait}Server<T>`: a table of routes and a `call` that
//! dispatches by index into that table, so routing is one lookup and one `match`.

use std::future::Future;
use std::pin::Pin;

use http::Response;

use crate::body::Body;
use crate::openapi::ApiBuilder;
use crate::request::Request;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An HTTP verb a route answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET (also answers HEAD).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// HEAD.
    Head,
}

impl Verb {
    /// The `http` method of the verb.
    pub fn method(self) -> http::Method {
        match self {
            Self::Get => http::Method::GET,
            Self::Post => http::Method::POST,
            Self::Put => http::Method::PUT,
            Self::Patch => http::Method::PATCH,
            Self::Delete => http::Method::DELETE,
            Self::Head => http::Method::HEAD,
        }
    }

    /// The verb's name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        }
    }
}

/// One route of a service: verb, path template (`/user/{id}`) and the trait method's name.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The verb.
    pub verb: Verb,
    /// The path template, relative to `GDD_ROUTE_ROOT_PATH`.
    pub path: &'static str,
    /// The Rust method name, also the OpenAPI `operationId`.
    pub operation: &'static str,
}

macro_rules! route_constructors {
    ($($name:ident => $verb:ident),*) => {
        impl Route {
            $(
                #[doc = concat!("A ", stringify!($verb), " route on `path` to the method `operation`.")]
                pub const fn $name(path: &'static str, operation: &'static str) -> Self {
                    Self { verb: Verb::$verb, path, operation }
                }
            )*
        }
    };
}
route_constructors!(get => Get, post => Post, put => Put, patch => Patch, delete => Delete, head => Head);

/// What a service was built from: its crate version and, when the build passed them in, the
/// git commit (`GDD_GIT_COMMIT`) and build time (`GDD_BUILD_TIME`), read at compile time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildInfo {
    /// The service crate's version.
    pub version: &'static str,
    /// The git commit, or "".
    pub git_commit: &'static str,
    /// The build time, or "".
    pub build_time: &'static str,
}

/// A set of routes served together: what `#[doudou::service]` generates as `{Trait}Server`.
/// Pass one to [`Server::service`](crate::Server::service) or [`serve`](crate::serve); the
/// macro implements it, you do not.
pub trait Service: Send + Sync + 'static {
    /// The trait's name.
    fn name(&self) -> &'static str;
    /// The routes, indexed by position.
    fn routes(&self) -> &'static [Route];
    /// Handles a request matched to `routes()[route]` (generated).
    #[doc(hidden)]
    fn call(&self, route: usize, req: Request) -> BoxFuture<Response<Body>>;
    /// Adds the routes' operations and schemas to an OpenAPI document (generated).
    #[doc(hidden)]
    fn describe(&self, api: &mut ApiBuilder);
    /// Build information of the crate that defined the service.
    fn build_info(&self) -> BuildInfo {
        BuildInfo::default()
    }
}
